import { Alert, Box, CircularProgress, Paper, Stack, Typography } from '@mui/material';
import { useCallback, useEffect, useState, type ReactNode } from 'react';

import { ApiError, getEnums } from '../api';

/** Loads `load()` when `deps` change; `reload` runs it again. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: undefined }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error: Error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** The Hub's names (call types, statuses, providers, key roles), fetched once per page load. */
export function useEnums() {
  return useAsync(() => getEnums(), []).data;
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <Stack direction="row" spacing={2} alignItems="center" sx={{ p: 3 }} role="status">
      <CircularProgress size={20} />
      <Typography color="text.secondary">{label}</Typography>
    </Stack>
  );
}

export function ErrorAlert({ error }: { error?: Error | null }) {
  if (!error) return null;
  const link = error instanceof ApiError && error.link ? error.link : null;
  return (
    <Alert severity="error" sx={{ my: 2 }} role="alert">
      {error.message}
      {link ? (
        <>
          {' '}
          <a href={link}>Buy credits</a>
        </>
      ) : null}
    </Alert>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <Box sx={{ p: 4, textAlign: 'center' }}>
      <Typography color="text.secondary">{children}</Typography>
    </Box>
  );
}

export function PageTitle({ title, action }: { title: string; action?: ReactNode }) {
  return (
    <Stack direction="row" alignItems="center" justifyContent="space-between" sx={{ mb: 2, gap: 2, flexWrap: 'wrap' }}>
      <Typography variant="h5" component="h1">
        {title}
      </Typography>
      {action}
    </Stack>
  );
}

export function Stat({ label, value, hint }: { label: string; value: ReactNode; hint?: string }) {
  return (
    <Paper variant="outlined" sx={{ p: 2, flex: '1 1 160px', minWidth: 150 }}>
      <Typography variant="overline" color="text.secondary">
        {label}
      </Typography>
      <Typography variant="h5" component="p" data-testid={`stat-${label}`}>
        {value}
      </Typography>
      {hint ? (
        <Typography variant="caption" color="text.secondary">
          {hint}
        </Typography>
      ) : null}
    </Paper>
  );
}

export const fmt = {
  int: (n: number | null | undefined) => (n ?? 0).toLocaleString(),
  credits: (s: string | number | null | undefined) => {
    const n = Number(s ?? 0);
    return Number.isFinite(n) ? n.toLocaleString(undefined, { maximumFractionDigits: 6 }) : String(s);
  },
  ms: (n: number | null | undefined) => (n == null ? '—' : `${Math.round(n).toLocaleString()} ms`),
  time: (s: string | null | undefined) => (s ? new Date(s).toLocaleString() : '—'),
  pct: (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)}%` : '—'),
};
