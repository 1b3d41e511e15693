import { Alert, Box, Button, MenuItem, Paper, Stack, Table, TableBody, TableCell, TableHead, TableRow, TextField, Typography } from '@mui/material';
import { useState } from 'react';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

import { get, post, query, type Balance, type List, type Transaction } from '../api';
import { useAuth } from '../auth';
import { Empty, ErrorAlert, Loading, PageTitle, Stat, fmt, useAsync } from '../components/common';
import type { Stats } from './Usage';

function GrantForm({ onDone }: { onDone: () => void }) {
  const [userDid, setUserDid] = useState('');
  const [amount, setAmount] = useState('');
  const [category, setCategory] = useState('manual');
  const [expiresAt, setExpiresAt] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const [ok, setOk] = useState<string | null>(null);
  const grant = async () => {
    setError(null);
    setOk(null);
    try {
      await post('/api/credits/grants', {
        userDid: userDid.trim(),
        amount: amount.trim(),
        category,
        expiresAt: expiresAt ? new Date(expiresAt).toISOString() : undefined,
      });
      setOk(`Granted ${amount} credits.`);
      setAmount('');
      onDone();
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <Paper variant="outlined" sx={{ p: 2, mb: 3 }}>
      <Typography variant="h6" component="h2" gutterBottom>
        Grant credits
      </Typography>
      <ErrorAlert error={error} />
      {ok ? <Alert severity="success">{ok}</Alert> : null}
      <Stack direction={{ xs: 'column', md: 'row' }} spacing={2}>
        <TextField size="small" label="User DID" value={userDid} onChange={(e) => setUserDid(e.target.value)} sx={{ flexGrow: 1 }} />
        <TextField size="small" label="Amount" value={amount} onChange={(e) => setAmount(e.target.value)} />
        <TextField size="small" select label="Category" value={category} onChange={(e) => setCategory(e.target.value)} sx={{ minWidth: 140 }}>
          {['manual', 'paid', 'promotional'].map((c) => (
            <MenuItem key={c} value={c}>
              {c}
            </MenuItem>
          ))}
        </TextField>
        <TextField size="small" type="date" label="Expires" value={expiresAt} onChange={(e) => setExpiresAt(e.target.value)} InputLabelProps={{ shrink: true }} />
        <Button variant="contained" onClick={grant} disabled={!userDid.trim() || !amount.trim()}>
          Grant
        </Button>
      </Stack>
    </Paper>
  );
}

/** The user's credits: balance, transactions, a usage chart, where to buy; admins grant. */
export default function Credits() {
  const { info, isAdmin } = useAuth();
  const [page, setPage] = useState(1);
  const balance = useAsync(() => get<Balance & { enableCredit: boolean }>('/api/user/credit/balance'), []);
  const txs = useAsync(() => get<List<Transaction>>(`/api/user/credit/transactions${query({ page, pageSize: 20 })}`), [page]);
  const usage = useAsync(
    () => get<Stats>(`/api/user/usage-stats${query({ start: new Date(Date.now() - 29 * 86400_000).toISOString(), timeType: 'day' })}`),
    [],
  );
  const reload = () => {
    balance.reload();
    txs.reload();
  };
  const enabled = info?.enableCredit ?? false;
  return (
    <Box>
      <PageTitle
        title="Credits"
        action={
          enabled && info?.paymentLink ? (
            <Button variant="contained" href={info.paymentLink}>
              Buy credits
            </Button>
          ) : null
        }
      />
      {!enabled ? <Alert severity="info" sx={{ mb: 2 }}>Billing is off on this Hub: calls are not charged.</Alert> : null}
      <ErrorAlert error={balance.error} />
      {balance.loading && !balance.data ? <Loading /> : null}
      {balance.data ? (
        <Stack direction="row" sx={{ gap: 2, flexWrap: 'wrap', mb: 3 }}>
          <Stat label="Balance" value={fmt.credits(balance.data.balance)} />
          <Stat label="Available" value={fmt.credits(balance.data.available ?? balance.data.balance)} hint="less what running calls hold" />
          {balance.data.debt && Number(balance.data.debt) > 0 ? <Stat label="Debt" value={fmt.credits(balance.data.debt)} /> : null}
        </Stack>
      ) : null}
      {isAdmin ? <GrantForm onDone={reload} /> : null}
      <Paper variant="outlined" sx={{ p: 2, mb: 3 }}>
        <Typography variant="h6" component="h2" gutterBottom>
          Credits used per day (30 days)
        </Typography>
        <ErrorAlert error={usage.error} />
        <Box sx={{ height: 220 }}>
          <ResponsiveContainer width="100%" height="100%">
            <BarChart data={(usage.data?.series ?? []).map((b) => ({ day: (b.timestamp ?? '').slice(5, 10), credits: Number(b.credits) }))}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="day" />
              <YAxis />
              <Tooltip />
              <Bar isAnimationActive={false} dataKey="credits" fill="#3157d5" />
            </BarChart>
          </ResponsiveContainer>
        </Box>
      </Paper>
      <Paper variant="outlined" sx={{ p: 2 }}>
        <Typography variant="h6" component="h2" gutterBottom>
          Transactions
        </Typography>
        <ErrorAlert error={txs.error} />
        {txs.data && txs.data.list.length === 0 ? <Empty>No transactions yet.</Empty> : null}
        {txs.data && txs.data.list.length > 0 ? (
          <Box sx={{ overflowX: 'auto' }}>
            <Table size="small">
              <TableHead>
                <TableRow>
                  <TableCell>Time</TableCell>
                  <TableCell>Kind</TableCell>
                  <TableCell align="right">Amount</TableCell>
                  <TableCell align="right">Calls</TableCell>
                  <TableCell>Description</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {txs.data.list.map((t) => (
                  <TableRow key={t.id}>
                    <TableCell>{fmt.time(t.createdAt ?? t.created_at)}</TableCell>
                    <TableCell>{t.kind ?? 'usage'}</TableCell>
                    <TableCell align="right">{fmt.credits(t.amount ?? t.credit_amount)}</TableCell>
                    <TableCell align="right">{t.calls ?? '—'}</TableCell>
                    <TableCell>{t.description ?? ''}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
            <Stack direction="row" spacing={1} sx={{ mt: 1 }}>
              <Button disabled={page <= 1} onClick={() => setPage(page - 1)}>
                Newer
              </Button>
              <Button disabled={page * 20 >= txs.data.count} onClick={() => setPage(page + 1)}>
                Older
              </Button>
            </Stack>
          </Box>
        ) : null}
      </Paper>
    </Box>
  );
}
