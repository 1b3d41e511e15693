import { Box, Button, Chip, Table, TableBody, TableCell, TableHead, TableRow, TextField } from '@mui/material';
import { useState } from 'react';

import { get, type PublicModel } from '../api';
import { under } from '../base';
import { shift } from '../decimal';
import { Empty, ErrorAlert, Loading, PageTitle, useAsync } from '../components/common';

const perMillion = (v?: string | null) => (v == null ? '—' : (shift(v, 6) ?? v));

/** Public: every model with its price and availability. */
export default function Pricing({ standalone = false }: { standalone?: boolean }) {
  const [q, setQ] = useState('');
  const models = useAsync(() => get<PublicModel[]>('/api/ai/models'), []);
  const rows = (models.data ?? []).filter((m) => !q || m.key.toLowerCase().includes(q.toLowerCase()));
  return (
    <Box sx={standalone ? { p: { xs: 2, md: 4 } } : undefined}>
      <PageTitle title="Pricing" action={standalone ? <Button href={under('/')}>Sign in</Button> : null} />
      <TextField size="small" label="Search models" value={q} onChange={(e) => setQ(e.target.value)} sx={{ mb: 2 }} />
      <ErrorAlert error={models.error} />
      {models.loading && !models.data ? <Loading /> : null}
      {models.data && rows.length === 0 ? <Empty>No models.</Empty> : null}
      {rows.length > 0 ? (
        <Box sx={{ overflowX: 'auto' }}>
          <Table size="small">
            <TableHead>
              <TableRow>
                <TableCell>Model</TableCell>
                <TableCell>Provider</TableCell>
                <TableCell>Type</TableCell>
                <TableCell align="right">Input / 1M tokens</TableCell>
                <TableCell align="right">Output / 1M tokens</TableCell>
                <TableCell>Status</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {rows.map((m) => (
                <TableRow key={`${m.key}-${m.type}`}>
                  <TableCell>{m.model}</TableCell>
                  <TableCell>{m.providerDisplayName ?? m.provider}</TableCell>
                  <TableCell>{m.type}</TableCell>
                  <TableCell align="right">{perMillion(m.input_credits_per_token)}</TableCell>
                  <TableCell align="right">{perMillion(m.output_credits_per_token)}</TableCell>
                  <TableCell>
                    <Chip size="small" color={m.status?.available === false ? 'default' : 'success'} label={m.status?.available === false ? 'unavailable' : 'available'} />
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
