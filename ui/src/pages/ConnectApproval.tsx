import { Alert, Avatar, Box, Button, Paper, Stack, Typography } from '@mui/material';
import { useState } from 'react';

import { ApiError, get, post } from '../api';
import { useAuth } from '../auth';
import { ErrorAlert, Loading, useAsync } from '../components/common';

/** The page `aigne hub connect` opens: `__token__` is the base64url of the CLI's session id. */
export const CONNECT_PATH = '/.well-known/service/gen-simple-access-key';

export function sessionIdOf(token: string | null): string | null {
  if (!token || !/^[A-Za-z0-9_-]+$/.test(token)) return null;
  try {
    const padded = token.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((token.length + 3) % 4);
    const id = atob(padded);
    return /^[0-9a-f]{16,128}$/.test(id) ? id : null;
  } catch {
    return null;
  }
}

interface SessionView {
  status: 'pending' | 'approved' | 'refused';
  expiresAt: string;
}

/** Approve or refuse a CLI's request for an access key of the signed-in user. */
export default function ConnectApproval() {
  const { info } = useAuth();
  const params = new URLSearchParams(window.location.search);
  const sid = sessionIdOf(params.get('__token__'));
  const appName = (params.get('appName') ?? '').trim() || 'An application';
  const appLogo = params.get('appLogo');
  const source = params.get('source');
  const session = useAsync<SessionView | null>(
    () => (sid ? get<SessionView>(`/api/connect-sessions/${sid}`) : Promise.resolve(null)),
    [sid],
  );
  const [done, setDone] = useState<'approved' | 'refused' | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);

  const decide = async (how: 'approve' | 'refuse') => {
    setBusy(true);
    setError(null);
    try {
      await post(`/api/connect-sessions/${sid}/${how}`, how === 'approve' ? { appName } : {});
      setDone(how === 'approve' ? 'approved' : 'refused');
      if (how === 'approve' && params.get('closeOnSuccess') === 'true') setTimeout(() => window.close(), 1500);
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  let body;
  if (!sid) {
    body = <Alert severity="error">This is not a valid connect link. Run `aigne hub connect` again.</Alert>;
  } else if (session.loading) {
    body = <Loading />;
  } else if (session.error) {
    const gone = session.error instanceof ApiError && session.error.status === 404;
    body = gone ? (
      <Alert severity="warning">This connect request has expired or was already used. Run `aigne hub connect` again.</Alert>
    ) : (
      <ErrorAlert error={session.error} />
    );
  } else if (done === 'approved') {
    body = (
      <Alert severity="success" data-testid="connect-done">
        Connected. {appName} received an access key for your account; you can close this window and return to it.
      </Alert>
    );
  } else if (done === 'refused') {
    body = (
      <Alert severity="info" data-testid="connect-done">
        Refused. {appName} gets no access key.
      </Alert>
    );
  } else if (session.data && session.data.status !== 'pending') {
    body = <Alert severity="warning">This connect request was already {session.data.status}.</Alert>;
  } else {
    body = (
      <Stack spacing={2}>
        <Typography>
          <strong>{appName}</strong> asks for an access key to use this AIGNE Hub as{' '}
          <strong>{info?.user.name ?? info?.user.did}</strong>. It will call models and spend your credits until you
          revoke the key on the Access keys page.
        </Typography>
        {source ? (
          <Typography variant="body2" color="text.secondary">
            Requested by: {source}
          </Typography>
        ) : null}
        <ErrorAlert error={error} />
        <Stack direction="row" spacing={2}>
          <Button variant="contained" disabled={busy} onClick={() => decide('approve')} data-testid="connect-approve">
            Approve
          </Button>
          <Button variant="outlined" color="inherit" disabled={busy} onClick={() => decide('refuse')} data-testid="connect-refuse">
            Refuse
          </Button>
        </Stack>
      </Stack>
    );
  }

  return (
    <Box sx={{ display: 'grid', placeItems: 'center', minHeight: '100vh', p: 2 }}>
      <Paper sx={{ p: 4, width: '100%', maxWidth: 520 }} variant="outlined">
        <Stack spacing={2}>
          <Stack direction="row" spacing={2} alignItems="center">
            {appLogo && /^https?:\/\//.test(appLogo) ? (
              <Avatar src={appLogo} alt="" imgProps={{ referrerPolicy: 'no-referrer' }} />
            ) : null}
            <Typography variant="h5" component="h1">
              Connect {appName} to AIGNE Hub
            </Typography>
          </Stack>
          {body}
        </Stack>
      </Paper>
    </Box>
  );
}
