import {
  Box,
  Button,
  Dialog,
  DialogActions,
  DialogContent,
  DialogTitle,
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

import { del, getAll, post, put, type ModelAlias } from '../api';
import { Empty, ErrorAlert, Loading, useAsync } from '../components/common';

function AliasDialog({ alias, onClose }: { alias: ModelAlias | null; onClose: (changed: boolean) => void }) {
  const [pattern, setPattern] = useState(alias?.pattern ?? '');
  const [target, setTarget] = useState(alias?.target ?? '');
  const [error, setError] = useState<Error | null>(null);
  const save = async () => {
    try {
      if (alias) await put(`/api/model-aliases/${alias.id}`, { pattern, target });
      else await post('/api/model-aliases', { pattern, target });
      onClose(true);
    } catch (e) {
      setError(e as Error);
    }
  };
  const remove = async () => {
    if (!alias) return;
    try {
      await del(`/api/model-aliases/${alias.id}`);
      onClose(true);
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <Dialog open onClose={() => onClose(false)} fullWidth maxWidth="sm">
      <DialogTitle>{alias ? `Edit alias ${alias.pattern}` : 'Add a model alias'}</DialogTitle>
      <DialogContent>
        <ErrorAlert error={error} />
        <Stack spacing={2} sx={{ mt: 1 }}>
          <TextField
            label="Requested name"
            value={pattern}
            onChange={(e) => setPattern(e.target.value)}
            helperText="An exact model name (claude-sonnet-4-5) or a glob (claude-*, gpt-5-?odex)"
          />
          <TextField label="Served by" value={target} onChange={(e) => setTarget(e.target.value)} helperText="provider/model, e.g. openai/gpt-5-mini" />
        </Stack>
      </DialogContent>
      <DialogActions>
        {alias ? (
          <Button color="error" onClick={remove} sx={{ mr: 'auto' }}>
            Delete
          </Button>
        ) : null}
        <Button onClick={() => onClose(false)}>Cancel</Button>
        <Button variant="contained" onClick={save} disabled={!pattern.trim() || !target.trim()}>
          Save
        </Button>
      </DialogActions>
    </Dialog>
  );
}

/** Aliases: names clients send (coding agents send fixed ones) and the provider/model serving them. */
export default function ModelAliases() {
  const [editing, setEditing] = useState<ModelAlias | null | 'new'>(null);
  const aliases = useAsync(() => getAll<ModelAlias>('/api/model-aliases'), []);
  return (
    <Box sx={{ mt: 4 }} data-testid="model-aliases">
      <Stack direction="row" alignItems="center" justifyContent="space-between" sx={{ mb: 1 }}>
        <Typography variant="h6" component="h2">
          Model aliases
        </Typography>
        <Button variant="outlined" onClick={() => setEditing('new')}>
          Add alias
        </Button>
      </Stack>
      <Typography variant="body2" color="text.secondary" sx={{ mb: 1 }}>
        A call for a name on the left is served by the model on the right; an exact name wins over a glob, a longer glob over a shorter one. The call log keeps both names.
      </Typography>
      <ErrorAlert error={aliases.error} />
      {aliases.loading && !aliases.data ? <Loading /> : null}
      {aliases.data && aliases.data.list.length === 0 ? <Empty>No aliases: models are routed by the name the client sends.</Empty> : null}
      {aliases.data && aliases.data.list.length > 0 ? (
        <Table size="small">
          <TableHead>
            <TableRow>
              <TableCell>Requested name</TableCell>
              <TableCell>Kind</TableCell>
              <TableCell>Served by</TableCell>
              <TableCell />
            </TableRow>
          </TableHead>
          <TableBody>
            {aliases.data.list.map((a) => (
              <TableRow key={a.id}>
                <TableCell>{a.pattern}</TableCell>
                <TableCell>{a.kind}</TableCell>
                <TableCell>{a.target}</TableCell>
                <TableCell align="right">
                  <Button size="small" onClick={() => setEditing(a)}>
                    Edit
                  </Button>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      ) : null}
      {editing ? (
        <AliasDialog
          alias={editing === 'new' ? null : editing}
          onClose={(changed) => {
            setEditing(null);
            if (changed) aliases.reload();
          }}
        />
      ) : null}
    </Box>
  );
}
