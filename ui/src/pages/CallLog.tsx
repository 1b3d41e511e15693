import DownloadIcon from '@mui/icons-material/Download';
import {
  Box,
  Button,
  Chip,
  Drawer,
  FormControlLabel,
  MenuItem,
  Stack,
  Switch,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TablePagination,
  TableRow,
  TextField,
  Typography,
} from '@mui/material';
import { useState } from 'react';

import { authHeaders, get, query, type Call, type List } from '../api';
import { under } from '../base';
import { useAuth } from '../auth';
import { Empty, ErrorAlert, Loading, PageTitle, fmt, useAsync, useEnums } from '../components/common';

function Details({ call, onClose }: { call: Call | null; onClose: () => void }) {
  return (
    <Drawer anchor="right" open={!!call} onClose={onClose}>
      <Box sx={{ width: { xs: '100vw', sm: 460 }, p: 3 }} role="dialog" aria-label="Call details">
        {call ? (
          <>
            <Typography variant="h6" component="h2" gutterBottom>
              {call.model}
            </Typography>
            <Stack spacing={1}>
              {(
                [
                  ['Status', call.status],
                  ['Time', fmt.time(call.callTime)],
                  ['Type', call.type],
                  ['Client API', call.dialect ?? '—'],
                  ['Tokens', fmt.int(call.totalUsage)],
                  ['Credits', fmt.credits(call.credits)],
                  ['Duration', fmt.ms(call.durationMs)],
                  ['Time to first byte', fmt.ms(call.ttfbMs)],
                  ['User', call.userDid ?? '—'],
                  ['App', call.appDid ?? '—'],
                  ['Request id', call.requestId ?? '—'],
                  ['Error', call.errorReason ?? '—'],
                ] as [string, string][]
              ).map(([k, v]) => (
                <Box key={k}>
                  <Typography variant="caption" color="text.secondary">
                    {k}
                  </Typography>
                  <Typography sx={{ wordBreak: 'break-all' }}>{v}</Typography>
                </Box>
              ))}
              <Typography variant="caption" color="text.secondary">
                Usage and request
              </Typography>
              <Box component="pre" sx={{ fontSize: 12, m: 0, whiteSpace: 'pre-wrap' }}>
                {JSON.stringify({ usage: call.usageMetrics, metadata: call.metadata }, null, 2)}
              </Box>
            </Stack>
            <Button sx={{ mt: 2 }} onClick={onClose}>
              Close
            </Button>
          </>
        ) : null}
      </Box>
    </Drawer>
  );
}

async function exportCsv(path: string) {
  const res = await fetch(under(path), { headers: authHeaders(), credentials: 'same-origin' });
  if (!res.ok) throw new Error(`export failed: ${res.status}`);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = 'model-calls.csv';
  a.click();
  URL.revokeObjectURL(url);
}

/** The call log: filters, pages, a details drawer and CSV export. */
export default function CallLog() {
  const { isAdmin } = useAuth();
  const enums = useEnums();
  const [status, setStatus] = useState('');
  const [model, setModel] = useState('');
  const [type, setType] = useState('');
  const [everyone, setEveryone] = useState(false);
  const [page, setPage] = useState(0);
  const [pageSize, setPageSize] = useState(20);
  const [open, setOpen] = useState<Call | null>(null);
  const [exportError, setExportError] = useState<Error | null>(null);
  const filters = { status, model, type, allUsers: everyone ? true : undefined };
  const calls = useAsync(
    () => get<List<Call>>(`/api/user/model-calls${query({ ...filters, page: page + 1, pageSize })}`),
    [status, model, type, everyone, page, pageSize],
  );
  const reset = () => setPage(0);
  return (
    <Box>
      <PageTitle
        title="Call log"
        action={
          <Button
            startIcon={<DownloadIcon />}
            onClick={() => exportCsv(`/api/user/model-calls/export${query(filters)}`).catch((e: Error) => setExportError(e))}
          >
            Export CSV
          </Button>
        }
      />
      <Stack direction="row" sx={{ gap: 2, flexWrap: 'wrap', mb: 2 }}>
        <TextField size="small" select label="Status" value={status} onChange={(e) => (setStatus(e.target.value), reset())} sx={{ minWidth: 140 }}>
          <MenuItem value="">any</MenuItem>
          {(enums?.callStatuses ?? []).map((s) => (
            <MenuItem key={s} value={s}>
              {s}
            </MenuItem>
          ))}
        </TextField>
        <TextField size="small" label="Model contains" value={model} onChange={(e) => (setModel(e.target.value), reset())} />
        <TextField size="small" select label="Type" value={type} onChange={(e) => (setType(e.target.value), reset())} sx={{ minWidth: 170 }}>
          <MenuItem value="">any</MenuItem>
          {(enums?.callTypes ?? []).map((t) => (
            <MenuItem key={t} value={t}>
              {t}
            </MenuItem>
          ))}
        </TextField>
        {isAdmin ? (
          <FormControlLabel control={<Switch checked={everyone} onChange={(e) => (setEveryone(e.target.checked), reset())} />} label="All users" />
        ) : null}
      </Stack>
      <ErrorAlert error={calls.error ?? exportError} />
      {calls.loading && !calls.data ? <Loading /> : null}
      {calls.data && calls.data.list.length === 0 ? <Empty>No calls match.</Empty> : null}
      {calls.data && calls.data.list.length > 0 ? (
        <>
          <Box sx={{ overflowX: 'auto' }}>
            <Table size="small" data-testid="call-log">
              <TableHead>
                <TableRow>
                  <TableCell>Time</TableCell>
                  <TableCell>Model</TableCell>
                  <TableCell>Status</TableCell>
                  <TableCell align="right">Tokens</TableCell>
                  <TableCell align="right">Credits</TableCell>
                  <TableCell align="right">Duration</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {calls.data.list.map((c) => (
                  <TableRow
                    key={c.id}
                    hover
                    tabIndex={0}
                    sx={{ cursor: 'pointer' }}
                    onClick={() => setOpen(c)}
                    onKeyDown={(e) => (e.key === 'Enter' ? setOpen(c) : undefined)}
                  >
                    <TableCell>{fmt.time(c.callTime)}</TableCell>
                    <TableCell>{c.model}</TableCell>
                    <TableCell>
                      <Chip size="small" label={c.status} color={c.status === 'success' ? 'success' : c.status === 'failed' ? 'error' : 'default'} />
                    </TableCell>
                    <TableCell align="right">{fmt.int(c.totalUsage)}</TableCell>
                    <TableCell align="right">{fmt.credits(c.credits)}</TableCell>
                    <TableCell align="right">{fmt.ms(c.durationMs)}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </Box>
          <TablePagination
            component="div"
            count={calls.data.count}
            page={page}
            rowsPerPage={pageSize}
            rowsPerPageOptions={[20, 50, 100]}
            onPageChange={(_, p) => setPage(p)}
            onRowsPerPageChange={(e) => (setPageSize(Number(e.target.value)), reset())}
            labelDisplayedRows={({ from, to, count }) => `${from}–${to} of ${calls.data?.countCapped ? `${count}+` : count}`}
          />
        </>
      ) : null}
      <Details call={open} onClose={() => setOpen(null)} />
    </Box>
  );
}
