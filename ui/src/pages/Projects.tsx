import {
  Avatar,
  Box,
  Button,
  MenuItem,
  Paper,
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
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

import { get, query, type Call, type List } from '../api';
import { useAuth } from '../auth';
import { Empty, ErrorAlert, Loading, PageTitle, fmt, useAsync } from '../components/common';

export interface Project {
  appDid: string;
  appName: string;
  appLogo?: string | null;
  totalCalls: number;
  totalCredits: string;
  totalUsage: number;
  avgDuration: number;
  successRate: number;
  lastCallTime: number | null;
}

interface ProjectStats {
  totalCalls: number;
  totalCredits: string;
}

interface GroupTrends {
  projects: { appDid: string; appName: string }[];
  granularity: 'hour' | 'day';
  trends: { timestamp: number; byProject: Record<string, ProjectStats> }[];
}

/** Minutes behind UTC, as the Hub takes `timezoneOffset`. */
const TZ = new Date().getTimezoneOffset();
const COLORS = ['#1976d2', '#9c27b0', '#2e7d32', '#ed6c02', '#d32f2f', '#0288d1', '#7b1fa2', '#558b2f'];

function rangeOf(days: number) {
  const end = Math.floor(Date.now() / 1000);
  return { startTime: end - days * 86400, endTime: end, timezoneOffset: TZ };
}

/** Usage per calling app: the list, calls per day by app, and a project's calls. */
export default function Projects() {
  const { isAdmin } = useAuth();
  const [days, setDays] = useState(7);
  const [all, setAll] = useState(false);
  const [open, setOpen] = useState<Project | null>(null);
  const scope = { ...rangeOf(days), allUsers: all || undefined };
  const projects = useAsync(
    () => get<{ projects: Project[]; total: number }>(`/api/usage/projects${query({ ...scope, pageSize: 100 })}`),
    [days, all],
  );
  const trends = useAsync(() => get<GroupTrends>(`/api/usage/projects/group-trends${query(scope)}`), [days, all]);
  const calls = useAsync(
    () =>
      open
        ? get<List<Call>>(`/api/usage/projects/calls${query({ ...scope, appDid: open.appDid, pageSize: 20 })}`)
        : Promise.resolve(null),
    [open?.appDid, days, all],
  );
  const names = new Map((trends.data?.projects ?? []).map((p) => [p.appDid, p.appName]));
  const series = (trends.data?.trends ?? []).map((t) => {
    const row: Record<string, number | string> = {
      at:
        trends.data?.granularity === 'hour'
          ? new Date(t.timestamp * 1000).toLocaleTimeString([], { hour: '2-digit' })
          : new Date(t.timestamp * 1000).toLocaleDateString(),
    };
    for (const [app, s] of Object.entries(t.byProject)) row[names.get(app) ?? app] = s.totalCalls;
    return row;
  });
  return (
    <Box>
      <PageTitle
        title="Projects"
        action={
          <Stack direction="row" spacing={2}>
            <TextField select size="small" label="Range" value={days} onChange={(e) => setDays(Number(e.target.value))}>
              <MenuItem value={1}>24 hours</MenuItem>
              <MenuItem value={7}>7 days</MenuItem>
              <MenuItem value={30}>30 days</MenuItem>
            </TextField>
            {isAdmin ? (
              <Button variant={all ? 'contained' : 'outlined'} onClick={() => setAll(!all)}>
                {all ? 'Everyone' : 'Mine'}
              </Button>
            ) : null}
          </Stack>
        }
      />
      <ErrorAlert error={projects.error ?? trends.error} />
      {projects.loading ? <Loading /> : null}
      {projects.data && projects.data.projects.length === 0 ? <Empty>No calls in this range.</Empty> : null}
      {series.length > 0 && (trends.data?.projects.length ?? 0) > 0 ? (
        <Paper variant="outlined" sx={{ p: 2, mb: 3, height: 280 }}>
          <ResponsiveContainer width="100%" height="100%">
            <BarChart data={series}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="at" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Legend />
              {(trends.data?.projects ?? []).map((p, i) => (
                <Bar key={p.appDid} dataKey={p.appName} stackId="calls" fill={COLORS[i % COLORS.length]} />
              ))}
            </BarChart>
          </ResponsiveContainer>
        </Paper>
      ) : null}
      {projects.data && projects.data.projects.length > 0 ? (
        <Paper variant="outlined" sx={{ mb: 3 }}>
          <Table size="small" data-testid="projects">
            <TableHead>
              <TableRow>
                <TableCell>App</TableCell>
                <TableCell align="right">Calls</TableCell>
                <TableCell align="right">Credits</TableCell>
                <TableCell align="right">Tokens</TableCell>
                <TableCell align="right">Success</TableCell>
                <TableCell align="right">Avg duration</TableCell>
                <TableCell>Last call</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {projects.data.projects.map((p) => (
                <TableRow
                  key={p.appDid}
                  hover
                  selected={open?.appDid === p.appDid}
                  onClick={() => setOpen(p)}
                  sx={{ cursor: 'pointer' }}
                  data-testid={`project-${p.appDid}`}
                >
                  <TableCell>
                    <Stack direction="row" spacing={1} alignItems="center">
                      <Avatar src={p.appLogo ?? undefined} alt="" sx={{ width: 24, height: 24 }}>
                        {p.appName.slice(0, 1)}
                      </Avatar>
                      <span title={p.appDid}>{p.appName}</span>
                    </Stack>
                  </TableCell>
                  <TableCell align="right">{fmt.int(p.totalCalls)}</TableCell>
                  <TableCell align="right">{fmt.credits(p.totalCredits)}</TableCell>
                  <TableCell align="right">{fmt.int(p.totalUsage)}</TableCell>
                  <TableCell align="right">{p.successRate.toFixed(1)}%</TableCell>
                  <TableCell align="right">{p.avgDuration.toFixed(1)} s</TableCell>
                  <TableCell>{p.lastCallTime ? new Date(p.lastCallTime * 1000).toLocaleString() : '—'}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Paper>
      ) : null}
      {open ? (
        <Paper variant="outlined" sx={{ p: 2 }} data-testid="project-calls">
          <Typography variant="h6" component="h2" gutterBottom>
            Calls of {open.appName}
          </Typography>
          <ErrorAlert error={calls.error} />
          {calls.data?.list.map((c) => (
            <Typography key={c.id} variant="body2" sx={{ py: 0.5 }}>
              {fmt.time(c.callTime)} · {c.model} · {c.status} · {fmt.credits(c.credits)} credits
            </Typography>
          ))}
          {calls.data && calls.data.list.length === 0 ? <Empty>No calls.</Empty> : null}
        </Paper>
      ) : null}
    </Box>
  );
}
