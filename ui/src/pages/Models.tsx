import {
  Alert,
  Box,
  Button,
  Dialog,
  DialogActions,
  DialogContent,
  DialogTitle,
  MenuItem,
  Stack,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  TextField,
  Typography,
} from '@mui/material';
import { useState } from 'react';

import { getAll, post, put, type Provider, type Rate } from '../api';
import { shift } from '../decimal';
import { Empty, ErrorAlert, Loading, PageTitle, useAsync, useEnums } from '../components/common';
import ModelAliases from './ModelAliases';
import RateCheck, { RateHistory } from './RateCheck';

/** Token-priced types are shown per 1M tokens; images per image, video per second. */
const perToken = (type: string) => type !== 'imageGeneration' && type !== 'video';

/** Rates are credits per token; people think per 1M tokens. Exact: the decimal point moves,
 * nothing is rounded, so an unchanged rate saves as it was. */
export function perUnit(rate: string, type: string): string {
  return (perToken(type) ? shift(rate, 6) : shift(rate, 0)) ?? rate;
}

export function fromPerUnit(value: string, type: string): string {
  return (perToken(type) ? shift(value, -6) : shift(value, 0)) ?? value.trim();
}

const unit = (type: string) => (type === 'imageGeneration' ? 'per image' : type === 'video' ? 'per second' : 'per 1M tokens');

function RateDialog({
  providers,
  rate,
  onClose,
}: {
  providers: Provider[];
  rate: Rate | null;
  onClose: (changed: boolean) => void;
}) {
  const [providerId, setProviderId] = useState(rate?.providerId ?? providers[0]?.id ?? '');
  const [model, setModel] = useState(rate?.model ?? '');
  const [type, setType] = useState(rate?.type ?? 'chatCompletion');
  const [input, setInput] = useState(rate ? perUnit(rate.inputRate, rate.type) : '');
  const [output, setOutput] = useState(rate ? perUnit(rate.outputRate, rate.type) : '');
  const [error, setError] = useState<Error | null>(null);
  const types = useEnums()?.callTypes ?? [type];
  const save = async () => {
    const body = { model, type, inputRate: fromPerUnit(input, type), outputRate: fromPerUnit(output, type) };
    try {
      if (rate) await put(`/api/ai-providers/${rate.providerId}/model-rates/${rate.id}`, body);
      else await post(`/api/ai-providers/${providerId}/model-rates`, body);
      onClose(true);
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <Dialog open onClose={() => onClose(false)} fullWidth maxWidth="sm">
      <DialogTitle>{rate ? `Edit ${rate.model}` : 'Add a model rate'}</DialogTitle>
      <DialogContent>
        <ErrorAlert error={error} />
        <Stack spacing={2} sx={{ mt: 1 }}>
          <TextField select label="Provider" value={providerId} disabled={!!rate} onChange={(e) => setProviderId(e.target.value)}>
            {providers.map((p) => (
              <MenuItem key={p.id} value={p.id}>
                {p.displayName}
              </MenuItem>
            ))}
          </TextField>
          <TextField label="Model" value={model} onChange={(e) => setModel(e.target.value)} />
          <TextField select label="Type" value={type} onChange={(e) => setType(e.target.value)}>
            {types.map((t) => (
              <MenuItem key={t} value={t}>
                {t}
              </MenuItem>
            ))}
          </TextField>
          <TextField label={`Input credits ${unit(type)}`} value={input} onChange={(e) => setInput(e.target.value)} />
          <TextField label={`Output credits ${unit(type)}`} value={output} onChange={(e) => setOutput(e.target.value)} />
        </Stack>
      </DialogContent>
      <DialogActions>
        <Button onClick={() => onClose(false)}>Cancel</Button>
        <Button variant="contained" onClick={save} disabled={!model.trim() || !providerId}>
          Save
        </Button>
      </DialogActions>
    </Dialog>
  );
}

interface BulkChange {
  id: string;
  model: string;
  type: string;
  oldInputRate: string;
  oldOutputRate: string;
  inputRate: string;
  outputRate: string;
}

interface BulkAnswer {
  dryRun: boolean;
  updated: number;
  changes: BulkChange[];
  skipped: { id: string; model: string; reason: string }[];
}

function BulkMargin({ onDone }: { onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const [mode, setMode] = useState<'margin' | 'sync'>('sync');
  const [margin, setMargin] = useState('20');
  const [price, setPrice] = useState('0.0000025');
  const [preview, setPreview] = useState<BulkAnswer | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const run = async (dryRun: boolean) => {
    setError(null);
    try {
      const a = await post<BulkAnswer>('/api/ai-providers/bulk-rate-update', {
        mode,
        profitMargin: margin,
        creditPrice: price,
        dryRun,
      });
      if (dryRun) setPreview(a);
      else {
        setOpen(false);
        setPreview(null);
        onDone();
      }
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <>
      <Button variant="outlined" onClick={() => setOpen(true)}>
        Bulk update
      </Button>
      <Dialog open={open} onClose={() => setOpen(false)} fullWidth maxWidth="md">
        <DialogTitle>Re-price every rate: cost × (1 + margin) ÷ credit price</DialogTitle>
        <DialogContent>
          <ErrorAlert error={error} />
          <Stack direction={{ xs: 'column', sm: 'row' }} spacing={2} sx={{ mt: 1 }}>
            <TextField
              select
              label="Cost"
              value={mode}
              onChange={(e) => {
                setMode(e.target.value as 'margin' | 'sync');
                setPreview(null);
              }}
              sx={{ minWidth: 220 }}
            >
              <MenuItem value="sync">Providers' list prices</MenuItem>
              <MenuItem value="margin">Each rate's unit costs</MenuItem>
            </TextField>
            <TextField label="Profit margin %" value={margin} onChange={(e) => setMargin(e.target.value)} />
            <TextField label="USD per credit" value={price} onChange={(e) => setPrice(e.target.value)} />
          </Stack>
          {preview ? (
            <Box sx={{ mt: 2, maxHeight: 360, overflow: 'auto' }} data-testid="bulk-preview">
              <Typography variant="subtitle2" gutterBottom>
                {preview.changes.length} rates change, {preview.skipped.length} skipped
              </Typography>
              <Table size="small">
                <TableHead>
                  <TableRow>
                    <TableCell>Model</TableCell>
                    <TableCell align="right">Input now → new</TableCell>
                    <TableCell align="right">Output now → new</TableCell>
                  </TableRow>
                </TableHead>
                <TableBody>
                  {preview.changes.map((c) => (
                    <TableRow key={c.id}>
                      <TableCell>{c.model}</TableCell>
                      <TableCell align="right">
                        {perUnit(c.oldInputRate, c.type)} → {perUnit(c.inputRate, c.type)}
                      </TableCell>
                      <TableCell align="right">
                        {perUnit(c.oldOutputRate, c.type)} → {perUnit(c.outputRate, c.type)}
                      </TableCell>
                    </TableRow>
                  ))}
                  {preview.skipped.map((k) => (
                    <TableRow key={k.id}>
                      <TableCell>{k.model}</TableCell>
                      <TableCell colSpan={2} align="right">
                        <Typography variant="caption" color="text.secondary">
                          skipped: {k.reason}
                        </Typography>
                      </TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            </Box>
          ) : (
            <Alert severity="info" sx={{ mt: 2 }}>
              Preview first: nothing changes until you apply.
            </Alert>
          )}
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setOpen(false)}>Cancel</Button>
          <Button onClick={() => run(true)}>Preview</Button>
          <Button variant="contained" onClick={() => run(false)} disabled={!preview}>
            Apply
          </Button>
        </DialogActions>
      </Dialog>
    </>
  );
}

/** Every model rate, per 1M tokens (per image / second for media). */
export default function Models() {
  const [q, setQ] = useState('');
  const [editing, setEditing] = useState<Rate | null | 'new'>(null);
  const [history, setHistory] = useState<Rate | null>(null);
  const [version, setVersion] = useState(0);
  const providers = useAsync(() => getAll<Provider>('/api/ai-providers'), []);
  const rates = useAsync(() => getAll<Rate>('/api/ai-providers/model-rates', { q }), [q]);
  const names = new Map((providers.data?.list ?? []).map((p) => [p.id, p.displayName]));
  return (
    <Box>
      <PageTitle
        title="Model rates"
        action={
          <Stack direction="row" spacing={1}>
            <BulkMargin
              onDone={() => {
                rates.reload();
                setVersion((v) => v + 1);
              }}
            />
            <Button variant="contained" onClick={() => setEditing('new')} disabled={!providers.data?.list.length}>
              Add rate
            </Button>
          </Stack>
        }
      />
      <RateCheck version={version} />
      <TextField size="small" label="Filter models" value={q} onChange={(e) => setQ(e.target.value)} sx={{ mb: 2 }} />
      <ErrorAlert error={rates.error ?? providers.error} />
      {rates.loading && !rates.data ? <Loading /> : null}
      {rates.data && rates.data.list.length === 0 ? <Empty>No rates. Calls to unpriced models cost nothing (and are refused with billing on).</Empty> : null}
      {rates.data && rates.data.list.length > 0 ? (
        <Box sx={{ overflowX: 'auto' }}>
          <Table size="small">
            <TableHead>
              <TableRow>
                <TableCell>Provider</TableCell>
                <TableCell>Model</TableCell>
                <TableCell>Type</TableCell>
                <TableCell align="right">Input</TableCell>
                <TableCell align="right">Output</TableCell>
                <TableCell>Unit</TableCell>
                <TableCell />
              </TableRow>
            </TableHead>
            <TableBody>
              {rates.data.list.map((r) => (
                <TableRow key={r.id}>
                  <TableCell>{names.get(r.providerId) ?? r.providerId}</TableCell>
                  <TableCell>{r.model}</TableCell>
                  <TableCell>{r.type}</TableCell>
                  <TableCell align="right">{perUnit(r.inputRate, r.type)}</TableCell>
                  <TableCell align="right">{perUnit(r.outputRate, r.type)}</TableCell>
                  <TableCell>
                    <Typography variant="caption">{unit(r.type)}</Typography>
                  </TableCell>
                  <TableCell align="right">
                    <Button size="small" onClick={() => setHistory(r)}>
                      History
                    </Button>
                    <Button size="small" onClick={() => setEditing(r)}>
                      Edit
                    </Button>
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Box>
      ) : null}
      {editing ? (
        <RateDialog
          providers={providers.data?.list ?? []}
          rate={editing === 'new' ? null : editing}
          onClose={(changed) => {
            setEditing(null);
            if (changed) {
              rates.reload();
              setVersion((v) => v + 1);
            }
          }}
        />
      ) : null}
      {history ? <RateHistory rate={history} show={perUnit} onClose={() => setHistory(null)} /> : null}
      <ModelAliases />
    </Box>
  );
}
