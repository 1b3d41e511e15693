import { Box, Paper, Stack, Table, TableBody, TableCell, TableHead, TableRow, Typography } from '@mui/material';

import { get, query, type Call, type List } from '../api';
import { useAuth } from '../auth';
import { Empty, ErrorAlert, Loading, PageTitle, Stat, fmt, useAsync } from '../components/common';
import type { Stats } from './Usage';

interface Quota {
  enableCredit: boolean;
  dailyAvgCredits: string;
  total?: string;
  remaining?: string;
  estimatedDaysRemaining?: string | null;
}

/** Local midnight `days - 1` days ago: 1 is today, 7 the last seven days including today. */
function since(days: number) {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() - (days - 1));
  return d.toISOString();
}

/** Calls, success rate, credits and tokens today and over 7 days; top models; recent errors. */
export default function Overview() {
  const { isAdmin, info } = useAuth();
  const all = isAdmin ? true : undefined;
  const today = useAsync(
    () => get<Stats>(`/api/user/usage-stats${query({ start: since(1), timeType: 'hour', allUsers: all })}`),
    [all],
  );
  const week = useAsync(
    () => get<Stats>(`/api/user/usage-stats${query({ start: since(7), timeType: 'day', allUsers: all })}`),
    [all],
  );
  const quota = useAsync(() => get<Quota>('/api/usage/quota'), []);
  const errors = useAsync(
    () => get<List<Call>>(`/api/user/model-calls${query({ status: 'failed', pageSize: 5, allUsers: all })}`),
    [all],
  );
  return (
    <Box>
      <PageTitle title="Overview" />
      {info?.enableCredit && info.creditBalance ? (
        <Typography sx={{ mb: 2 }}>Credit balance: {fmt.credits(info.creditBalance.balance)}</Typography>
      ) : null}
      {quota.data?.enableCredit ? (
        <Stack direction="row" sx={{ gap: 2, flexWrap: 'wrap', mb: 3 }} data-testid="quota">
          <Stat label="Credits left" value={fmt.credits(quota.data.remaining)} hint={`of ${fmt.credits(quota.data.total)} granted`} />
          <Stat label="Per day (30 days)" value={fmt.credits(quota.data.dailyAvgCredits)} />
          <Stat
            label="Days left"
            value={quota.data.estimatedDaysRemaining ?? '—'}
            hint={quota.data.estimatedDaysRemaining ? 'at that pace' : 'no spending in 30 days'}
          />
        </Stack>
      ) : null}
      <ErrorAlert error={today.error ?? week.error} />
      {today.loading || week.loading ? <Loading /> : null}
      {today.data && week.data ? (
        <>
          <Stack direction="row" sx={{ gap: 2, flexWrap: 'wrap', mb: 3 }}>
            <Stat label="Calls today" value={fmt.int(today.data.totals.calls)} />
            <Stat label="Success today" value={fmt.pct(today.data.totals.success, today.data.totals.calls)} />
            <Stat label="Credits today" value={fmt.credits(today.data.totals.credits)} />
            <Stat label="Tokens today" value={fmt.int(today.data.totals.totalUsage)} />
            <Stat label="Calls 7 days" value={fmt.int(week.data.totals.calls)} />
            <Stat label="Credits 7 days" value={fmt.credits(week.data.totals.credits)} />
            <Stat label="Tokens 7 days" value={fmt.int(week.data.totals.totalUsage)} />
          </Stack>
          <Paper variant="outlined" sx={{ p: 2, mb: 3 }}>
            <Typography variant="h6" component="h2" gutterBottom>
              Top models (7 days)
            </Typography>
            {week.data.byModel.length === 0 ? (
              <Empty>No calls yet.</Empty>
            ) : (
              <Table size="small">
                <TableHead>
                  <TableRow>
                    <TableCell>Model</TableCell>
                    <TableCell align="right">Calls</TableCell>
                    <TableCell align="right">Tokens</TableCell>
                    <TableCell align="right">Credits</TableCell>
                  </TableRow>
                </TableHead>
                <TableBody>
                  {[...week.data.byModel]
                    .sort((a, b) => b.calls - a.calls)
                    .slice(0, 5)
                    .map((m) => (
                      <TableRow key={m.model}>
                        <TableCell>{m.model}</TableCell>
                        <TableCell align="right">{fmt.int(m.calls)}</TableCell>
                        <TableCell align="right">{fmt.int(m.totalUsage)}</TableCell>
                        <TableCell align="right">{fmt.credits(m.credits)}</TableCell>
                      </TableRow>
                    ))}
                </TableBody>
              </Table>
            )}
          </Paper>
        </>
      ) : null}
      <Paper variant="outlined" sx={{ p: 2 }}>
        <Typography variant="h6" component="h2" gutterBottom>
          Recent errors
        </Typography>
        <ErrorAlert error={errors.error} />
        {errors.data && errors.data.list.length === 0 ? <Empty>No failed calls.</Empty> : null}
        {errors.data?.list.map((c) => (
          <Typography key={c.id} variant="body2" sx={{ py: 0.5 }}>
            {fmt.time(c.callTime)} · {c.model} · {c.errorReason}
          </Typography>
        ))}
      </Paper>
    </Box>
  );
}
