import { Box, FormControlLabel, MenuItem, Paper, Stack, Switch, TextField, Typography, useTheme } from '@mui/material';
import { useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

import { get, getAll, query, type Provider } from '../api';
import { useAuth } from '../auth';
import { Empty, ErrorAlert, Loading, PageTitle, Stat, fmt, useAsync } from '../components/common';

export interface Bucket {
  timestamp?: string;
  model?: string;
  calls: number;
  success: number;
  failed: number;
  totalUsage: number;
  credits: string;
  durationP50: number | null;
  durationP95: number | null;
  ttfbP50: number | null;
  ttfbP95: number | null;
}

export interface Stats {
  series: Bucket[];
  byModel: Bucket[];
  byGroup?: (Bucket & { key: string })[];
  groupBy?: string;
  totals: Bucket;
  source: string;
  start: string;
  end: string;
  timeType: string;
}

const day = (d: Date) => d.toISOString().slice(0, 10);

function label(ts: string, timeType: string) {
  const d = new Date(ts);
  if (timeType === 'hour') return `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${d.getHours()}:00`;
  if (timeType === 'month') return d.toLocaleDateString(undefined, { year: 'numeric', month: 'short' });
  return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

function Chart({ title, children }: { title: string; children: React.ReactElement }) {
  return (
    <Paper variant="outlined" sx={{ p: 2, flex: '1 1 420px', minWidth: 0 }}>
      <Typography variant="subtitle1" component="h2" gutterBottom>
        {title}
      </Typography>
      <Box sx={{ height: 260 }}>
        <ResponsiveContainer width="100%" height="100%">
          {children}
        </ResponsiveContainer>
      </Box>
    </Paper>
  );
}

/** Usage over time from the rollups: calls, tokens, credits, latency; by model and provider. */
export default function Usage() {
  const { isAdmin } = useAuth();
  const theme = useTheme();
  const [start, setStart] = useState(day(new Date(Date.now() - 6 * 86400_000)));
  const [end, setEnd] = useState(day(new Date()));
  const [timeType, setTimeType] = useState('day');
  const [model, setModel] = useState('');
  const [providerId, setProviderId] = useState('');
  const [everyone, setEveryone] = useState(isAdmin);
  const [groupBy, setGroupBy] = useState('model');
  const providers = useAsync(
    () => (isAdmin ? getAll<Provider>('/api/ai-providers') : Promise.resolve(null)),
    [isAdmin],
  );
  const stats = useAsync(
    () =>
      get<Stats>(
        `/api/user/usage-stats${query({
          start: `${start}T00:00:00Z`,
          end: new Date(new Date(`${end}T00:00:00Z`).getTime() + 86400_000).toISOString(),
          timeType,
          model,
          providerId,
          allUsers: everyone ? true : undefined,
          groupBy: groupBy === 'model' || model || providerId ? undefined : groupBy,
        })}`,
      ),
    [start, end, timeType, model, providerId, everyone, groupBy],
  );
  const series = (stats.data?.series ?? []).map((b) => ({
    ...b,
    label: label(b.timestamp ?? '', timeType),
    creditsN: Number(b.credits),
  }));
  const grouped = stats.data?.byGroup
    ? stats.data.byGroup.map((b) => ({ ...b, model: b.key ? (b.key.length > 22 ? `${b.key.slice(0, 10)}…${b.key.slice(-8)}` : b.key) : '(no app)' }))
    : null;
  const byModel = (grouped ?? stats.data?.byModel ?? []).map((b) => ({ ...b, creditsN: Number(b.credits) }));
  const groupLabel = stats.data?.groupBy ?? 'model';
  const grid = theme.palette.divider;
  const c = [theme.palette.primary.main, theme.palette.success.main, theme.palette.error.main, theme.palette.warning.main];
  return (
    <Box>
      <PageTitle title="Usage" />
      <Stack direction="row" sx={{ gap: 2, flexWrap: 'wrap', mb: 2 }}>
        <TextField size="small" type="date" label="From" value={start} onChange={(e) => setStart(e.target.value)} InputLabelProps={{ shrink: true }} />
        <TextField size="small" type="date" label="To" value={end} onChange={(e) => setEnd(e.target.value)} InputLabelProps={{ shrink: true }} />
        <TextField size="small" select label="By" value={timeType} onChange={(e) => setTimeType(e.target.value)} sx={{ minWidth: 110 }}>
          <MenuItem value="hour">hour</MenuItem>
          <MenuItem value="day">day</MenuItem>
          <MenuItem value="month">month</MenuItem>
        </TextField>
        <TextField size="small" select label="Model" value={model} onChange={(e) => setModel(e.target.value)} sx={{ minWidth: 200 }}>
          <MenuItem value="">all models</MenuItem>
          {(stats.data?.byModel ?? []).map((m) => (
            <MenuItem key={m.model} value={m.model}>
              {m.model}
            </MenuItem>
          ))}
        </TextField>
        <TextField size="small" select label="Break down by" value={groupBy} onChange={(e) => setGroupBy(e.target.value)} sx={{ minWidth: 150 }}>
          <MenuItem value="model">model</MenuItem>
          <MenuItem value="app">app</MenuItem>
          {isAdmin ? <MenuItem value="user">user</MenuItem> : null}
        </TextField>
        {isAdmin ? (
          <>
            <TextField size="small" select label="Provider" value={providerId} onChange={(e) => setProviderId(e.target.value)} sx={{ minWidth: 160 }}>
              <MenuItem value="">all providers</MenuItem>
              {(providers.data?.list ?? []).map((p) => (
                <MenuItem key={p.id} value={p.id}>
                  {p.displayName}
                </MenuItem>
              ))}
            </TextField>
            <FormControlLabel control={<Switch checked={everyone} onChange={(e) => setEveryone(e.target.checked)} />} label="All users" />
          </>
        ) : null}
      </Stack>
      <ErrorAlert error={stats.error} />
      {stats.loading && !stats.data ? <Loading /> : null}
      {stats.data ? (
        <>
          <Stack direction="row" sx={{ gap: 2, flexWrap: 'wrap', mb: 2 }}>
            <Stat label="Calls" value={fmt.int(stats.data.totals.calls)} />
            <Stat label="Success rate" value={fmt.pct(stats.data.totals.success, stats.data.totals.calls)} />
            <Stat label="Tokens" value={fmt.int(stats.data.totals.totalUsage)} />
            <Stat label="Credits" value={fmt.credits(stats.data.totals.credits)} />
            <Stat label="p95 latency" value={fmt.ms(stats.data.totals.durationP95)} />
          </Stack>
          {stats.data.totals.calls === 0 ? (
            <Empty>No calls in this range.</Empty>
          ) : (
            <Stack direction="row" sx={{ gap: 2, flexWrap: 'wrap' }} data-testid="usage-charts">
              <Chart title="Calls">
                <BarChart data={series}>
                  <CartesianGrid stroke={grid} strokeDasharray="3 3" />
                  <XAxis dataKey="label" />
                  <YAxis allowDecimals={false} />
                  <Tooltip />
                  <Legend />
                  <Bar isAnimationActive={false} dataKey="success" stackId="a" fill={c[1]} name="succeeded" />
                  <Bar isAnimationActive={false} dataKey="failed" stackId="a" fill={c[2]} name="failed" />
                </BarChart>
              </Chart>
              <Chart title="Tokens">
                <LineChart data={series}>
                  <CartesianGrid stroke={grid} strokeDasharray="3 3" />
                  <XAxis dataKey="label" />
                  <YAxis />
                  <Tooltip />
                  <Line isAnimationActive={false} type="monotone" dataKey="totalUsage" stroke={c[0]} name="tokens" dot={false} />
                </LineChart>
              </Chart>
              <Chart title="Credits">
                <LineChart data={series}>
                  <CartesianGrid stroke={grid} strokeDasharray="3 3" />
                  <XAxis dataKey="label" />
                  <YAxis />
                  <Tooltip />
                  <Line isAnimationActive={false} type="monotone" dataKey="creditsN" stroke={c[3]} name="credits" dot={false} />
                </LineChart>
              </Chart>
              <Chart title="Latency (ms)">
                <LineChart data={series}>
                  <CartesianGrid stroke={grid} strokeDasharray="3 3" />
                  <XAxis dataKey="label" />
                  <YAxis />
                  <Tooltip />
                  <Legend />
                  <Line isAnimationActive={false} type="monotone" dataKey="durationP50" stroke={c[0]} name="p50" dot={false} />
                  <Line isAnimationActive={false} type="monotone" dataKey="durationP95" stroke={c[2]} name="p95" dot={false} />
                </LineChart>
              </Chart>
              <Chart title={`By ${groupLabel} (calls)`}>
                <BarChart data={byModel} layout="vertical" margin={{ left: 40 }}>
                  <CartesianGrid stroke={grid} strokeDasharray="3 3" />
                  <XAxis type="number" allowDecimals={false} />
                  <YAxis type="category" dataKey="model" width={160} />
                  <Tooltip />
                  <Bar isAnimationActive={false} dataKey="calls" fill={c[0]} />
                </BarChart>
              </Chart>
            </Stack>
          )}
        </>
      ) : null}
    </Box>
  );
}
