import { Alert, Avatar, Box, Button, Paper, Stack, TextField, Typography } from '@mui/material';
import { useState, type FormEvent } from 'react';

import { put } from '../api';
import { useAuth } from '../auth';
import { ErrorAlert, PageTitle } from '../components/common';

/** The signed-in user's name, e-mail and avatar: what `/api/user/info` (and `aigne hub status`) shows. */
export default function Profile() {
  const { info, refresh } = useAuth();
  const user = info?.user;
  const [fullName, setFullName] = useState(user?.fullName ?? '');
  const [email, setEmail] = useState(user?.email ?? '');
  const [avatar, setAvatar] = useState(user?.avatar ?? '');
  const [error, setError] = useState<Error | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      await put('/api/user/profile', { fullName, email, avatar });
      await refresh();
      setSaved(true);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Box>
      <PageTitle title="Profile" />
      <Paper variant="outlined" sx={{ p: 3, maxWidth: 560 }}>
        <Stack spacing={2} component="form" onSubmit={submit}>
          <Stack direction="row" spacing={2} alignItems="center">
            <Avatar src={user?.avatar ?? undefined} alt="" />
            <Box>
              <Typography data-testid="profile-did">{user?.did}</Typography>
              <Typography variant="body2" color="text.secondary">
                Role: {user?.role}
              </Typography>
            </Box>
          </Stack>
          <TextField label="Full name" value={fullName} onChange={(e) => setFullName(e.target.value)} inputProps={{ 'data-testid': 'profile-name' }} />
          <TextField label="E-mail" value={email} onChange={(e) => setEmail(e.target.value)} inputProps={{ 'data-testid': 'profile-email', inputMode: 'email' }} />
          <TextField
            label="Avatar URL"
            value={avatar}
            onChange={(e) => setAvatar(e.target.value)}
            helperText="An http(s) address of a picture. Empty fields are cleared."
          />
          <ErrorAlert error={error} />
          {saved ? <Alert severity="success">Saved.</Alert> : null}
          <Box>
            <Button type="submit" variant="contained" disabled={busy}>
              Save
            </Button>
          </Box>
        </Stack>
      </Paper>
    </Box>
  );
}
