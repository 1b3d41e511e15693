import { Box, Button, Chip, Paper, Stack, Table, TableBody, TableCell, TableHead, TableRow, Tooltip, Typography } from '@mui/material';
import { useEffect, useState } from 'react';

import { get, post } from '../api';
import { Empty, ErrorAlert, Loading, PageTitle, fmt, useAsync } from '../components/common';

interface CredentialHealth {
  id: string;
  name: string;
  state: 'active' | 'cooling_down' | 'disabled';
  coolingDownUntil: string | null;
  error: string | null;
  usageCount: number;
  lastUsedAt: string | null;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  lastFailure: string | null;
}

interface ModelHealth {
  model: string;
  type: string;
  available: boolean;
  error: { code?: string; message?: string } | null;
  responseTime: number | null;
  lastChecked: string;
}

interface ProviderHealth {
  id: string;
  name: string;
  displayName: string;
  enabled: boolean;
  coolingDownUntil: string | null;
  usableCredentials: number;
  credentials: CredentialHealth[];
  models: ModelHealth[];
}

const STATE_COLOR = { active: 'success', cooling_down: 'warning', disabled: 'error' } as const;

/** Provider keys and model availability as routing sees them; refreshed every 15 s. */
export default function Health() {
  const health = useAsync(() => get<{ providers: ProviderHealth[] }>('/api/ai-providers/health'), []);
  const [error, setError] = useState<Error | null>(null);
  const [checking, setChecking] = useState<string | null>(null);
  const { reload } = health;
  useEffect(() => {
    const t = window.setInterval(reload, 15_000);
    return () => window.clearInterval(t);
  }, [reload]);
  const check = async (p: ProviderHealth, m: ModelHealth) => {
    setError(null);
    setChecking(`${p.id}/${m.model}`);
    try {
      const r = await post<ModelHealth & { recorded: boolean }>('/api/ai-providers/model-statuses/check', { providerId: p.id, model: m.model });
      if (!r.recorded && !r.available) setError(new Error(`${m.model}: ${r.error?.code ?? 'failed'}: ${r.error?.message ?? ''} (the key or the request failed, not the model: nothing changed)`));
      reload();
    } catch (e) {
      setError(e as Error);
    } finally {
      setChecking(null);
    }
  };
  const providers = health.data?.providers ?? [];
  return (
    <Box>
      <PageTitle title="Health" action={<Button onClick={reload}>Refresh</Button>} />
      <ErrorAlert error={error ?? health.error} />
      {health.loading && !health.data ? <Loading /> : null}
      {health.data && providers.length === 0 ? <Empty>No providers yet: add one under Providers.</Empty> : null}
      <Stack spacing={3}>
        {providers.map((p) => (
          <Paper key={p.id} variant="outlined" sx={{ p: 2 }} data-testid={`health-${p.name}`}>
            <Stack direction="row" spacing={1} alignItems="center" sx={{ mb: 1, flexWrap: 'wrap' }}>
              <Typography variant="h6" component="h2">
                {p.displayName}
              </Typography>
              {p.enabled ? null : <Chip size="small" label="disabled" />}
              <Chip size="small" color={p.usableCredentials > 0 ? 'success' : 'error'} label={`${p.usableCredentials} of ${p.credentials.length} keys usable`} />
              {p.coolingDownUntil ? <Chip size="small" color="warning" label={`cooling down until ${fmt.time(p.coolingDownUntil)}`} /> : null}
            </Stack>
            {p.credentials.length > 0 ? (
              <Box sx={{ overflowX: 'auto' }}>
                <Table size="small" aria-label={`${p.displayName} keys`}>
                  <TableHead>
                    <TableRow>
                      <TableCell>Key</TableCell>
                      <TableCell>State</TableCell>
                      <TableCell align="right">Calls</TableCell>
                      <TableCell>Last success</TableCell>
                      <TableCell>Last failure</TableCell>
                    </TableRow>
                  </TableHead>
                  <TableBody>
                    {p.credentials.map((c) => (
                      <TableRow key={c.id}>
                        <TableCell>{c.name}</TableCell>
                        <TableCell>
                          <Tooltip title={c.error ?? (c.coolingDownUntil ? `until ${fmt.time(c.coolingDownUntil)}` : '')}>
                            <Chip size="small" color={STATE_COLOR[c.state]} label={c.state.replace('_', ' ')} data-testid={`key-state-${c.name}`} />
                          </Tooltip>
                        </TableCell>
                        <TableCell align="right">{fmt.int(c.usageCount)}</TableCell>
                        <TableCell>{fmt.time(c.lastSuccessAt)}</TableCell>
                        <TableCell>
                          {fmt.time(c.lastFailureAt)}
                          {c.lastFailure ? (
                            <Typography variant="caption" color="text.secondary" component="div" sx={{ maxWidth: 420, wordBreak: 'break-word' }}>
                              {c.lastFailure}
                            </Typography>
                          ) : null}
                        </TableCell>
                      </TableRow>
                    ))}
                  </TableBody>
                </Table>
              </Box>
            ) : null}
            {p.models.length > 0 ? (
              <Box sx={{ overflowX: 'auto', mt: 2 }}>
                <Table size="small" aria-label={`${p.displayName} models`}>
                  <TableHead>
                    <TableRow>
                      <TableCell>Model</TableCell>
                      <TableCell>Type</TableCell>
                      <TableCell>Status</TableCell>
                      <TableCell>Checked</TableCell>
                      <TableCell />
                    </TableRow>
                  </TableHead>
                  <TableBody>
                    {p.models.map((m) => (
                      <TableRow key={`${m.model}/${m.type}`}>
                        <TableCell>{m.model}</TableCell>
                        <TableCell>{m.type}</TableCell>
                        <TableCell>
                          <Tooltip title={m.error?.message ?? ''}>
                            <Chip size="small" color={m.available ? 'success' : 'error'} label={m.available ? 'available' : (m.error?.code ?? 'unavailable')} data-testid={`model-state-${m.model}`} />
                          </Tooltip>
                        </TableCell>
                        <TableCell>
                          {fmt.time(m.lastChecked)}
                          {m.responseTime != null ? ` · ${fmt.ms(m.responseTime)}` : ''}
                        </TableCell>
                        <TableCell align="right">
                          {m.type === 'chatCompletion' ? (
                            <Button size="small" disabled={checking === `${p.id}/${m.model}`} onClick={() => check(p, m)}>
                              Check now
                            </Button>
                          ) : null}
                        </TableCell>
                      </TableRow>
                    ))}
                  </TableBody>
                </Table>
              </Box>
            ) : (
              <Typography variant="body2" color="text.secondary" sx={{ mt: 1 }}>
                No model has failed here yet: models are listed once a call or check finds one unavailable.
              </Typography>
            )}
          </Paper>
        ))}
      </Stack>
    </Box>
  );
}
