import { Box, Chip, FormControlLabel, Paper, Stack, Switch, Tooltip, Typography } from '@mui/material';
import { useState } from 'react';

import { get, query } from '../api';
import { useAuth } from '../auth';
import { Empty, ErrorAlert, Loading, PageTitle, fmt, useAsync } from '../components/common';

interface Delivery {
  channel: string;
  attempts: number;
  deliveredAt: string | null;
  nextAttemptAt: string | null;
  lastError: string | null;
}

interface Notice {
  id: string;
  type: string;
  severity: 'error' | 'warning' | 'success' | 'info';
  title: string;
  body: string;
  userDid: string | null;
  createdAt: string;
  deliveries: Delivery[];
}

function DeliveryChip({ d }: { d: Delivery }) {
  const label = d.deliveredAt ? 'delivered' : d.attempts ? `retrying (${d.attempts})` : 'pending';
  const tip = d.deliveredAt ? `${d.channel} · ${fmt.time(d.deliveredAt)}` : `${d.channel} · ${d.lastError ?? 'not sent yet'} · next ${fmt.time(d.nextAttemptAt)}`;
  return (
    <Tooltip title={tip}>
      <Chip size="small" variant="outlined" color={d.deliveredAt ? 'success' : 'warning'} label={label} />
    </Tooltip>
  );
}

/** What the Hub told its operators and users: keys disabled and restored, rates below cost,
 * credits granted, low balances; with each webhook delivery's state. */
export default function Notifications() {
  const { isAdmin } = useAuth();
  const [mine, setMine] = useState(!isAdmin);
  const list = useAsync(() => get<{ count: number; list: Notice[] }>(`/api/notifications${query({ mine: mine || undefined, pageSize: 100 })}`), [mine]);
  return (
    <Box>
      <PageTitle title="Notifications" />
      {isAdmin ? <FormControlLabel control={<Switch checked={mine} onChange={(e) => setMine(e.target.checked)} />} label="Only mine" /> : null}
      <ErrorAlert error={list.error} />
      {list.loading && !list.data ? <Loading /> : null}
      {list.data && list.data.list.length === 0 ? <Empty>Nothing yet.</Empty> : null}
      <Stack spacing={1} data-testid="notifications">
        {(list.data?.list ?? []).map((n) => (
          <Paper key={n.id} variant="outlined" sx={{ p: 1.5 }} data-testid={`notice-${n.type}`}>
            <Stack direction="row" spacing={1} alignItems="center" sx={{ flexWrap: 'wrap', gap: 1 }}>
              <Chip size="small" color={n.severity === 'info' ? 'default' : n.severity} label={n.type.replace(/_/g, ' ')} />
              <Typography variant="subtitle2" component="h2">
                {n.title}
              </Typography>
              <Box sx={{ flexGrow: 1 }} />
              {n.deliveries.map((d) => (
                <DeliveryChip key={d.channel} d={d} />
              ))}
              <Typography variant="caption" color="text.secondary">
                {fmt.time(n.createdAt)}
              </Typography>
            </Stack>
            <Typography variant="body2" color="text.secondary" sx={{ mt: 0.5, wordBreak: 'break-word' }}>
              {n.body}
            </Typography>
          </Paper>
        ))}
      </Stack>
    </Box>
  );
}
