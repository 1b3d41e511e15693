import { Alert, Box, Button, Chip, FormControlLabel, MenuItem, Paper, Stack, Switch, Table, TableBody, TableCell, TableHead, TableRow, TextField, Typography } from '@mui/material';
import { useState } from 'react';

import { del, getAll, post, type AccessKey } from '../api';
import { useAuth } from '../auth';
import { Empty, ErrorAlert, Loading, PageTitle, fmt, useAsync, useEnums } from '../components/common';

/** Access keys: create (the key is shown once), list, revoke. */
export default function AccessKeys() {
  const { isAdmin, info } = useAuth();
  // Admins make keys for new users too: they see everyone's keys unless they ask for their own.
  const [everyone, setEveryone] = useState(isAdmin);
  const [name, setName] = useState('');
  const enums = useEnums();
  const [role, setRole] = useState('member');
  const [created, setCreated] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const keys = useAsync(() => getAll<AccessKey>('/api/access-keys', { allUsers: everyone ? true : undefined }), [everyone]);
  const create = async () => {
    setError(null);
    try {
      const k = await post<AccessKey & { key: string }>('/api/access-keys', { name: name.trim(), role });
      setCreated(k.key);
      setName('');
      keys.reload();
    } catch (e) {
      setError(e as Error);
    }
  };
  const revoke = async (k: AccessKey) => {
    if (!window.confirm(`Revoke ${k.name}? Clients using it stop working at once.`)) return;
    try {
      await del(`/api/access-keys/${k.id}`);
      keys.reload();
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <Box>
      <PageTitle title="Access keys" />
      <Paper variant="outlined" sx={{ p: 2, mb: 3 }}>
        <Stack direction={{ xs: 'column', sm: 'row' }} spacing={2}>
          <TextField size="small" label="Name" value={name} onChange={(e) => setName(e.target.value)} inputProps={{ 'data-testid': 'key-name' }} />
          {isAdmin ? (
            <TextField size="small" select label="Role" value={role} onChange={(e) => setRole(e.target.value)} sx={{ minWidth: 120 }}>
              {(enums?.keyRoles ?? [role]).map((r) => (
                <MenuItem key={r} value={r}>
                  {r}
                </MenuItem>
              ))}
            </TextField>
          ) : null}
          <Button variant="contained" onClick={create} disabled={!name.trim()}>
            Create key
          </Button>
        </Stack>
        {created ? (
          <Alert severity="success" sx={{ mt: 2 }} onClose={() => setCreated(null)}>
            Copy it now, it is not shown again:{' '}
            <Box component="code" sx={{ wordBreak: 'break-all' }} data-testid="new-key">
              {created}
            </Box>
          </Alert>
        ) : null}
      </Paper>
      {isAdmin ? <FormControlLabel control={<Switch checked={everyone} onChange={(e) => setEveryone(e.target.checked)} />} label="All users' keys" /> : null}
      <ErrorAlert error={error ?? keys.error} />
      {keys.loading && !keys.data ? <Loading /> : null}
      {keys.data && keys.data.list.length === 0 ? <Empty>No keys.</Empty> : null}
      {keys.data && keys.data.list.length > 0 ? (
        <Box sx={{ overflowX: 'auto' }}>
          <Table size="small" data-testid="keys">
            <TableHead>
              <TableRow>
                <TableCell>Name</TableCell>
                <TableCell>Key</TableCell>
                <TableCell>Role</TableCell>
                <TableCell>User</TableCell>
                <TableCell>Created</TableCell>
                <TableCell>Last used</TableCell>
                <TableCell />
              </TableRow>
            </TableHead>
            <TableBody>
              {keys.data.list.map((k) => (
                <TableRow key={k.id} data-testid={`key-${k.name}`}>
                  <TableCell>{k.name}</TableCell>
                  <TableCell sx={{ fontFamily: 'monospace' }}>{k.prefix}</TableCell>
                  <TableCell>{k.role}</TableCell>
                  <TableCell>
                    <Typography variant="body2" sx={{ maxWidth: 180, overflow: 'hidden', textOverflow: 'ellipsis' }} title={k.userDid}>
                      {k.userDid === info?.user.did ? 'you' : k.userDid}
                    </Typography>
                  </TableCell>
                  <TableCell>{fmt.time(k.createdAt)}</TableCell>
                  <TableCell>{fmt.time(k.lastUsedAt)}</TableCell>
                  <TableCell align="right">
                    {k.revoked ? (
                      <Chip size="small" label="revoked" />
                    ) : (
                      <Button size="small" color="error" onClick={() => revoke(k)}>
                        Revoke
                      </Button>
                    )}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Box>
      ) : null}
    </Box>
  );
}
