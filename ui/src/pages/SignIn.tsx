import { Alert, Box, Button, Divider, Paper, Stack, TextField, Typography } from '@mui/material';
import { useState, type FormEvent } from 'react';

import { useAuth } from '../auth';

/** Standalone: paste an access key (kept for this browser session). Blocklet: DID Wallet login. */
export default function SignIn() {
  const { signIn, reason } = useAuth();
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(key.trim());
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const back = encodeURIComponent(window.location.pathname + window.location.search);
  return (
    <Box sx={{ display: 'grid', placeItems: 'center', minHeight: '100vh', p: 2 }}>
      <Paper sx={{ p: 4, width: '100%', maxWidth: 440 }} variant="outlined">
        <Stack spacing={2} component="form" onSubmit={submit}>
          <Typography variant="h5" component="h1">
            Sign in to AIGNE Hub
          </Typography>
          {reason ? <Alert severity="warning">{reason}</Alert> : null}
          {error ? <Alert severity="error">{error}</Alert> : null}
          <TextField
            label="Access key"
            type="password"
            autoFocus
            autoComplete="off"
            value={key}
            onChange={(e) => setKey(e.target.value)}
            helperText="An access key of this Hub (aigne-hub keys create, or the admin key)."
            inputProps={{ 'data-testid': 'access-key' }}
          />
          <Button type="submit" variant="contained" disabled={!key.trim() || busy}>
            Sign in
          </Button>
          <Divider>or</Divider>
          <Button variant="outlined" href={`/.well-known/service/login?redirect=${back}`}>
            Log in with DID Wallet
          </Button>
          <Typography variant="caption" color="text.secondary">
            DID Wallet login works when the Hub runs on Blocklet Server.
          </Typography>
        </Stack>
      </Paper>
    </Box>
  );
}
