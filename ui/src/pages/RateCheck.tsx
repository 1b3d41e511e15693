import { Alert, Box, Button, Chip, Dialog, DialogActions, DialogContent, DialogTitle, Paper, Stack, Table, TableBody, TableCell, TableHead, TableRow, Typography } from '@mui/material';
import { useRef, useState } from 'react';

import { get, put, type Rate } from '../api';
import { ErrorAlert, fmt, useAsync } from '../components/common';

interface Finding {
  rateId: string;
  provider: string;
  model: string;
  type: string;
  inputRate: string;
  outputRate: string;
  costInput: string | null;
  costOutput: string | null;
  costSource: string;
  listSource?: string;
  inputMargin: string | null;
  outputMargin: string | null;
  driftPercent: string | null;
}

interface Report {
  checked: number;
  belowCost: Finding[];
  drift: Finding[];
  unpriced: Finding[];
  creditPrice: string;
  driftPercent: string;
  pricing: { source: string; file: string; models: number; fromFile: number; loadedAt: string };
}

const pct = (s: string | null) => (s == null ? '—' : `${Number(s) > 0 ? '+' : ''}${s}%`);

/** Rates compared with the providers' list prices: sold below cost, unit costs that drifted. */
export default function RateCheck({ version }: { version: number }) {
  const report = useAsync(() => get<Report>('/api/ai-providers/rate-check'), [version]);
  const [error, setError] = useState<Error | null>(null);
  const file = useRef<HTMLInputElement>(null);
  const upload = async (f: File) => {
    setError(null);
    try {
      let doc: unknown;
      try {
        doc = JSON.parse(await f.text());
      } catch {
        throw new Error(`${f.name} is not JSON: choose LiteLLM's model_prices_and_context_window.json`);
      }
      await put('/api/ai-providers/pricing', doc);
      report.reload();
    } catch (e) {
      setError(e as Error);
    }
  };
  const r = report.data;
  const rows = r ? [...r.belowCost.map((f) => ({ f, issue: 'below cost' })), ...r.drift.map((f) => ({ f, issue: 'drifted' }))] : [];
  return (
    <Paper variant="outlined" sx={{ p: 2, mb: 3 }} data-testid="rate-check">
      <Stack direction="row" spacing={1} alignItems="center" sx={{ flexWrap: 'wrap', gap: 1 }}>
        <Typography variant="subtitle1" component="h2" sx={{ mr: 1 }}>
          Rate check
        </Typography>
        {r ? (
          <>
            <Chip size="small" color={r.belowCost.length ? 'error' : 'success'} label={`${r.belowCost.length} below cost`} />
            <Chip size="small" color={r.drift.length ? 'warning' : 'success'} label={`${r.drift.length} drifted`} />
            <Chip size="small" label={`${r.unpriced.length} without a price`} />
            <Typography variant="caption" color="text.secondary">
              {r.checked} rates · 1 credit = {r.creditPrice} USD · prices: {r.pricing.source === 'built-in' ? 'built-in catalog' : `pricing file (${r.pricing.fromFile} models)`}, loaded {fmt.time(r.pricing.loadedAt)}
            </Typography>
          </>
        ) : null}
        <Box sx={{ flexGrow: 1 }} />
        <Button size="small" onClick={report.reload}>
          Check now
        </Button>
        <Button size="small" onClick={() => file.current?.click()}>
          Upload pricing file
        </Button>
        <input
          ref={file}
          type="file"
          accept="application/json,.json"
          hidden
          data-testid="pricing-file"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void upload(f);
            e.target.value = '';
          }}
        />
      </Stack>
      <ErrorAlert error={error ?? report.error} />
      {rows.length > 0 ? (
        <Box sx={{ overflowX: 'auto', mt: 1 }}>
          <Table size="small">
            <TableHead>
              <TableRow>
                <TableCell>Model</TableCell>
                <TableCell>Issue</TableCell>
                <TableCell align="right">Input margin</TableCell>
                <TableCell align="right">Output margin</TableCell>
                <TableCell align="right">Unit cost drift</TableCell>
                <TableCell>Cost basis</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {rows.map(({ f, issue }) => (
                <TableRow key={`${f.rateId}-${issue}`}>
                  <TableCell>
                    {f.provider}/{f.model}
                  </TableCell>
                  <TableCell>
                    <Chip size="small" color={issue === 'below cost' ? 'error' : 'warning'} label={issue} />
                  </TableCell>
                  <TableCell align="right">{pct(f.inputMargin)}</TableCell>
                  <TableCell align="right">{pct(f.outputMargin)}</TableCell>
                  <TableCell align="right">{f.driftPercent == null ? '—' : `${f.driftPercent}%`}</TableCell>
                  <TableCell>{f.costSource === 'list' ? `list price (${f.listSource})` : 'own unit costs'}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Box>
      ) : r ? (
        <Alert severity="success" sx={{ mt: 1 }}>
          No rate is sold below cost and no unit cost drifted more than {r.driftPercent}%.
        </Alert>
      ) : null}
    </Paper>
  );
}

interface HistoryEntry {
  id: string;
  change: string;
  changedBy: string;
  createdAt: string;
  previous: { inputRate: string; outputRate: string } | null;
  current: { inputRate: string; outputRate: string } | null;
}

/** Every price change of one rate: who, when, before and after. */
export function RateHistory({ rate, show, onClose }: { rate: Rate; show: (rate: string, type: string) => string; onClose: () => void }) {
  const history = useAsync(() => get<{ list: HistoryEntry[] }>(`/api/ai-providers/rate-history?rateId=${encodeURIComponent(rate.id)}&pageSize=100`), [rate.id]);
  const prices = (p: HistoryEntry['previous']) => (p ? `${show(p.inputRate, rate.type)} / ${show(p.outputRate, rate.type)}` : '—');
  return (
    <Dialog open onClose={onClose} fullWidth maxWidth="md">
      <DialogTitle>History of {rate.model}</DialogTitle>
      <DialogContent>
        <ErrorAlert error={history.error} />
        <Table size="small" data-testid="rate-history">
          <TableHead>
            <TableRow>
              <TableCell>When</TableCell>
              <TableCell>Change</TableCell>
              <TableCell>By</TableCell>
              <TableCell>Before (input / output)</TableCell>
              <TableCell>After</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {(history.data?.list ?? []).map((h) => (
              <TableRow key={h.id}>
                <TableCell>{fmt.time(h.createdAt)}</TableCell>
                <TableCell>{h.change}</TableCell>
                <TableCell sx={{ maxWidth: 160, overflow: 'hidden', textOverflow: 'ellipsis' }} title={h.changedBy}>
                  {h.changedBy}
                </TableCell>
                <TableCell>{prices(h.previous)}</TableCell>
                <TableCell>{prices(h.current)}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Close</Button>
      </DialogActions>
    </Dialog>
  );
}
