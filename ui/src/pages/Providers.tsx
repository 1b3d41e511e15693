import AddIcon from '@mui/icons-material/Add';
import DeleteIcon from '@mui/icons-material/Delete';
import {
  Alert,
  Box,
  Button,
  Card,
  CardContent,
  Chip,
  Dialog,
  DialogActions,
  DialogContent,
  DialogTitle,
  FormControlLabel,
  IconButton,
  MenuItem,
  Stack,
  Switch,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  TextField,
  Tooltip,
  Typography,
} from '@mui/material';
import { useEffect, useState } from 'react';

import { del, get, getAll, post, put, type Credential, type Provider } from '../api';
import { Empty, ErrorAlert, Loading, PageTitle, fmt, useAsync, useEnums } from '../components/common';


function credentialState(c: Credential) {
  if (!c.active) return <Chip size="small" color="error" label={c.error ? `disabled: ${c.error}` : 'disabled'} />;
  if (c.error) return <Chip size="small" color="warning" label={`degraded: ${c.error}`} />;
  return <Chip size="small" color="success" label="active" />;
}

function AddProvider({ onDone }: { onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const enums = useEnums();
  const [name, setName] = useState('openai');
  const [baseUrl, setBaseUrl] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const save = async () => {
    try {
      await post<Provider>('/api/ai-providers', { name, baseUrl: baseUrl.trim() || undefined });
      setOpen(false);
      setBaseUrl('');
      onDone();
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <>
      <Button variant="contained" startIcon={<AddIcon />} onClick={() => setOpen(true)}>
        Add provider
      </Button>
      <Dialog open={open} onClose={() => setOpen(false)} fullWidth maxWidth="sm">
        <DialogTitle>Add provider</DialogTitle>
        <DialogContent>
          <ErrorAlert error={error} />
          <Stack spacing={2} sx={{ mt: 1 }}>
            <TextField select label="Provider" value={name} onChange={(e) => setName(e.target.value)}>
              {(enums?.providers.map((p) => p.name) ?? [name]).map((n) => (
                <MenuItem key={n} value={n}>
                  {n}
                </MenuItem>
              ))}
            </TextField>
            <TextField
              label="Base URL (optional)"
              value={baseUrl}
              onChange={(e) => setBaseUrl(e.target.value)}
              inputProps={{ 'data-testid': 'provider-base-url' }}
            />
          </Stack>
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setOpen(false)}>Cancel</Button>
          <Button variant="contained" onClick={save}>
            Save
          </Button>
        </DialogActions>
      </Dialog>
    </>
  );
}

function AddCredential({ provider, onDone }: { provider: Provider; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  // Empty: saved untested. A model: the key is tried with a one-token call first and refused
  // if the provider rejects it, unless "save anyway" is ticked.
  const [testModel, setTestModel] = useState('');
  const [defaultModel, setDefaultModel] = useState<string | undefined>();
  const [force, setForce] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    if (!open) return;
    get<Record<string, string>>('/api/ai-providers/test-models')
      .then((models) => setDefaultModel(models[provider.name]))
      .catch(() => setDefaultModel(undefined));
  }, [open, provider.name]);
  const save = async () => {
    try {
      const body: Record<string, unknown> = { name, value };
      if (testModel.trim()) {
        body.testModel = testModel.trim();
        if (force) body.force = true;
      }
      await post<Credential>(`/api/ai-providers/${provider.id}/credentials`, body);
      setOpen(false);
      setName('');
      // The value is never shown again.
      setValue('');
      setTestModel('');
      setForce(false);
      onDone();
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <>
      <Button size="small" startIcon={<AddIcon />} onClick={() => setOpen(true)}>
        Add credential
      </Button>
      <Dialog open={open} onClose={() => setOpen(false)} fullWidth maxWidth="sm">
        <DialogTitle>Add a credential to {provider.displayName}</DialogTitle>
        <DialogContent>
          <ErrorAlert error={error} />
          <Stack spacing={2} sx={{ mt: 1 }}>
            <TextField label="Name" value={name} onChange={(e) => setName(e.target.value)} inputProps={{ 'data-testid': 'credential-name' }} />
            <TextField
              label="API key"
              type="password"
              autoComplete="off"
              value={value}
              onChange={(e) => setValue(e.target.value)}
              helperText="Stored encrypted; only a masked form is ever shown again."
              inputProps={{ 'data-testid': 'credential-value' }}
            />
            <Stack direction="row" spacing={1} alignItems="center">
              <TextField
                label="Test with model (optional)"
                value={testModel}
                onChange={(e) => setTestModel(e.target.value)}
                placeholder={defaultModel}
                helperText={defaultModel ? `A one-token call before saving; ${defaultModel} is a cheap choice.` : 'A one-token call before saving.'}
                inputProps={{ 'data-testid': 'credential-test-model' }}
                sx={{ flex: 1 }}
              />
              {defaultModel && !testModel && (
                <Button size="small" onClick={() => setTestModel(defaultModel)}>
                  Use {defaultModel}
                </Button>
              )}
            </Stack>
            {testModel.trim() && (
              <FormControlLabel
                control={<Switch checked={force} onChange={(e) => setForce(e.target.checked)} />}
                label="Save even if the provider rejects the key"
              />
            )}
          </Stack>
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setOpen(false)}>Cancel</Button>
          <Button variant="contained" onClick={save} disabled={!name.trim() || !value.trim()}>
            Save
          </Button>
        </DialogActions>
      </Dialog>
    </>
  );
}

interface TestResult {
  ok: boolean;
  rejected?: boolean;
  cause?: string;
  latencyMs: number;
  message?: string | null;
}

function TestButton({ provider, credential }: { provider: Provider; credential: Credential }) {
  const [result, setResult] = useState<TestResult | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    try {
      setResult(await post<TestResult>(`/api/ai-providers/${provider.id}/credentials/${credential.id}/test`, {}));
    } catch (e) {
      setResult({ ok: false, latencyMs: 0, message: (e as Error).message });
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <Button size="small" onClick={run} disabled={busy} aria-label={`Test credential ${credential.name}`}>
        {busy ? 'Testing…' : 'Test'}
      </Button>
      {result ? (
        <Tooltip title={result.message ?? ''}>
          <Chip
            size="small"
            data-testid="test-result"
            color={result.ok ? 'success' : 'error'}
            label={result.ok ? `works (${result.latencyMs} ms)` : result.rejected ? `rejected (${result.cause ?? 'key'})` : `failed${result.cause && result.cause !== 'unknown' ? ` (${result.cause})` : ''}`}
            sx={{ mr: 1 }}
          />
        </Tooltip>
      ) : null}
    </>
  );
}

function EditProvider({ p, onClose }: { p: Provider; onClose: (changed: boolean) => void }) {
  const [displayName, setDisplayName] = useState(p.displayName);
  const [baseUrl, setBaseUrl] = useState(p.baseUrl ?? '');
  const [region, setRegion] = useState(p.region ?? '');
  const [error, setError] = useState<Error | null>(null);
  const save = async () => {
    try {
      await put(`/api/ai-providers/${p.id}`, {
        displayName: displayName.trim() || null,
        baseUrl: baseUrl.trim() || null,
        region: region.trim() || null,
      });
      onClose(true);
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <Dialog open onClose={() => onClose(false)} fullWidth maxWidth="sm">
      <DialogTitle>Edit {p.displayName}</DialogTitle>
      <DialogContent>
        <ErrorAlert error={error} />
        <Stack spacing={2} sx={{ mt: 1 }}>
          <TextField label="Display name" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
          <TextField label="Base URL" value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} helperText="Empty: the provider's public API." />
          <TextField label="Region" value={region} onChange={(e) => setRegion(e.target.value)} helperText="Bedrock only." />
        </Stack>
      </DialogContent>
      <DialogActions>
        <Button onClick={() => onClose(false)}>Cancel</Button>
        <Button variant="contained" onClick={save}>
          Save
        </Button>
      </DialogActions>
    </Dialog>
  );
}

function ProviderCard({ p, reload }: { p: Provider; reload: () => void }) {
  const [error, setError] = useState<Error | null>(null);
  const [editing, setEditing] = useState(false);
  const act = (f: () => Promise<unknown>) => () => f().then(reload, (e: Error) => setError(e));
  return (
    <Card variant="outlined" data-testid={`provider-${p.name}`}>
      <CardContent>
        <Stack direction="row" alignItems="center" justifyContent="space-between" sx={{ flexWrap: 'wrap', gap: 1 }}>
          <Box>
            <Typography variant="h6" component="h2">
              {p.displayName}
            </Typography>
            <Typography variant="body2" color="text.secondary">
              {p.name} · {p.baseUrl ?? 'default URL'}
            </Typography>
          </Box>
          <Stack direction="row" alignItems="center" spacing={1}>
            <FormControlLabel
              control={
                <Switch checked={p.enabled} onChange={act(() => put(`/api/ai-providers/${p.id}`, { enabled: !p.enabled }))} />
              }
              label={p.enabled ? 'Enabled' : 'Disabled'}
            />
            <Button size="small" onClick={() => setEditing(true)}>
              Edit
            </Button>
            <Tooltip title="Delete provider (and its credentials and rates)">
              <IconButton
                aria-label={`Delete ${p.displayName}`}
                onClick={() => {
                  if (window.confirm(`Delete ${p.displayName}, its credentials and its rates?`)) act(() => del(`/api/ai-providers/${p.id}`))();
                }}
              >
                <DeleteIcon />
              </IconButton>
            </Tooltip>
          </Stack>
        </Stack>
        <ErrorAlert error={error} />
        <Box sx={{ overflowX: 'auto' }}>
          <Table size="small" sx={{ mt: 1 }}>
            <TableHead>
              <TableRow>
                <TableCell>Credential</TableCell>
                <TableCell>Key</TableCell>
                <TableCell>State</TableCell>
                <TableCell align="right">Weight</TableCell>
                <TableCell align="right">Uses</TableCell>
                <TableCell>Last used</TableCell>
                <TableCell />
              </TableRow>
            </TableHead>
            <TableBody>
              {(p.credentials ?? []).map((c) => (
                <TableRow key={c.id}>
                  <TableCell>{c.name}</TableCell>
                  <TableCell sx={{ fontFamily: 'monospace' }} data-testid="masked-value">
                    {c.maskedValue}
                  </TableCell>
                  <TableCell>{credentialState(c)}</TableCell>
                  <TableCell align="right">{c.weight}</TableCell>
                  <TableCell align="right">{fmt.int(c.usageCount)}</TableCell>
                  <TableCell>{fmt.time(c.lastUsedAt)}</TableCell>
                  <TableCell align="right" sx={{ whiteSpace: 'nowrap' }}>
                    <TestButton provider={p} credential={c} />
                    <Button size="small" onClick={act(() => put(`/api/ai-providers/${p.id}/credentials/${c.id}`, { active: !c.active }))}>
                      {c.active ? 'Disable' : 'Enable'}
                    </Button>
                    <IconButton
                      size="small"
                      aria-label={`Delete credential ${c.name}`}
                      onClick={() => {
                        if (window.confirm(`Delete credential ${c.name}?`)) act(() => del(`/api/ai-providers/${p.id}/credentials/${c.id}`))();
                      }}
                    >
                      <DeleteIcon fontSize="small" />
                    </IconButton>
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Box>
        {(p.credentials ?? []).length === 0 && p.name !== 'ollama' ? (
          <Alert severity="info" sx={{ mt: 1 }}>
            No credential yet: calls to {p.displayName} fail until one is added.
          </Alert>
        ) : null}
        <Box sx={{ mt: 1 }}>
          <AddCredential provider={p} onDone={reload} />
        </Box>
        {editing ? (
          <EditProvider
            p={p}
            onClose={(changed) => {
              setEditing(false);
              if (changed) reload();
            }}
          />
        ) : null}
      </CardContent>
    </Card>
  );
}

/** Providers and their credentials (values never shown, only masked). */
export default function Providers() {
  const { data, error, loading, reload } = useAsync(() => getAll<Provider>('/api/ai-providers'), []);
  return (
    <Box>
      <PageTitle title="Providers & credentials" action={<AddProvider onDone={reload} />} />
      <ErrorAlert error={error} />
      {loading && !data ? <Loading /> : null}
      {data && data.list.length === 0 ? <Empty>No provider yet. Add one to start routing calls.</Empty> : null}
      <Stack spacing={2}>
        {data?.list.map((p) => (
          <ProviderCard key={p.id} p={p} reload={reload} />
        ))}
      </Stack>
    </Box>
  );
}
