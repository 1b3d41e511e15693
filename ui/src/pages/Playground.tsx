import SendIcon from '@mui/icons-material/Send';
import StopIcon from '@mui/icons-material/Stop';
import {
  Autocomplete,
  Box,
  Button,
  MenuItem,
  Paper,
  Stack,
  Tab,
  Tabs,
  TextField,
  Typography,
} from '@mui/material';
import { useRef, useState } from 'react';

import { ApiError, authHeaders, get, query, type Call, type List } from '../api';
import { under } from '../base';
import { ErrorAlert, PageTitle, fmt, useAsync } from '../components/common';
import { type Dialect, feed, parseDialectChunk } from '../sse';
import ImagePlayground from './ImagePlayground';

interface Message {
  role: 'user' | 'assistant';
  content: string;
  meta?: { tokens?: number; credits?: string; ttfb?: number; total?: number; model: string };
}

/** The playground: chat (streamed) or images, each answer with its credits and latency. */
export default function Playground() {
  const [mode, setMode] = useState<'chat' | 'image'>('chat');
  return (
    <Box>
      <PageTitle title="Playground" />
      <Tabs value={mode} onChange={(_, v) => setMode(v)} sx={{ mb: 2 }}>
        <Tab value="chat" label="Chat" data-testid="mode-chat" />
        <Tab value="image" label="Image" data-testid="mode-image" />
      </Tabs>
      {mode === 'chat' ? <ChatPlayground /> : <ImagePlayground />}
    </Box>
  );
}

/** Where each client API is, and the body it takes for one streamed turn. */
const DIALECTS: Record<Dialect, { label: string; path: (model: string) => string }> = {
  chat: { label: 'OpenAI Chat Completions', path: () => '/api/v2/chat/completions' },
  responses: { label: 'OpenAI Responses', path: () => '/api/v2/responses' },
  messages: { label: 'Anthropic Messages', path: () => '/api/v2/messages' },
  // Gemini names the model and the method in the path.
  gemini: {
    label: 'Gemini generateContent',
    path: (model) => `/api/v2/v1beta/models/${model}:streamGenerateContent?alt=sse`,
  },
};

interface Turn {
  model: string;
  system: string;
  history: { role: string; content: string }[];
  temperature?: number;
  maxTokens?: number;
}

export function requestBody(dialect: Dialect, t: Turn): Record<string, unknown> {
  const sampling = t.temperature != null ? { temperature: t.temperature } : {};
  switch (dialect) {
    case 'chat':
      return {
        model: t.model,
        stream: true,
        stream_options: { include_usage: true },
        messages: [...(t.system ? [{ role: 'system', content: t.system }] : []), ...t.history],
        ...sampling,
        ...(t.maxTokens ? { max_tokens: t.maxTokens } : {}),
      };
    case 'responses':
      // The whole transcript each turn (store: false): the playground keeps its own history.
      return {
        model: t.model,
        stream: true,
        store: false,
        input: t.history,
        ...(t.system ? { instructions: t.system } : {}),
        ...sampling,
        ...(t.maxTokens ? { max_output_tokens: t.maxTokens } : {}),
      };
    case 'messages':
      return {
        model: t.model,
        stream: true,
        messages: t.history,
        ...(t.system ? { system: t.system } : {}),
        ...sampling,
        max_tokens: t.maxTokens ?? 1024,
      };
    case 'gemini': {
      const generationConfig = {
        ...sampling,
        ...(t.maxTokens ? { maxOutputTokens: t.maxTokens } : {}),
      };
      return {
        contents: t.history.map(({ role, content }) => ({
          role: role === 'assistant' ? 'model' : 'user',
          parts: [{ text: content }],
        })),
        ...(t.system ? { systemInstruction: { parts: [{ text: t.system }] } } : {}),
        ...(Object.keys(generationConfig).length ? { generationConfig } : {}),
      };
    }
  }
}

/** Chat with any routable model, streamed through the client API of one's choice; each answer
 * shows its tokens, credits and latency. */
function ChatPlayground() {
  const models = useAsync(() => get<{ data: { id: string }[] }>('/api/v2/models'), []);
  const [model, setModel] = useState<string | null>(null);
  const [dialect, setDialect] = useState<Dialect>('chat');
  const [system, setSystem] = useState('');
  const [temperature, setTemperature] = useState('');
  const [maxTokens, setMaxTokens] = useState('');
  const [input, setInput] = useState('');
  const [messages, setMessages] = useState<Message[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const abort = useRef<AbortController | null>(null);
  const options = (models.data?.data ?? []).map((m) => m.id);
  const chosen = model ?? options[0] ?? null;

  const send = async () => {
    if (!chosen || !input.trim()) return;
    const history: Message[] = [...messages, { role: 'user', content: input.trim() }];
    setMessages([...history, { role: 'assistant', content: '' }]);
    setInput('');
    setError(null);
    setBusy(true);
    const controller = new AbortController();
    abort.current = controller;
    const started = performance.now();
    let ttfb: number | undefined;
    let text = '';
    let tokens: number | undefined;
    const update = (meta?: Message['meta']) =>
      setMessages([...history, { role: 'assistant', content: text, meta }]);
    try {
      const body = requestBody(dialect, {
        model: chosen,
        system: system.trim(),
        history: history.map(({ role, content }) => ({ role, content })),
        temperature: temperature ? Number(temperature) : undefined,
        maxTokens: maxTokens ? Number(maxTokens) : undefined,
      });
      const res = await fetch(under(DIALECTS[dialect].path(chosen)), {
        method: 'POST',
        headers: { ...authHeaders(), 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: controller.signal,
        credentials: 'same-origin',
      });
      if (!res.ok || !res.body) {
        const e = await res.json().catch(() => null);
        throw new ApiError(e?.error?.message ?? `${res.status}`, res.status, e?.error?.type, e?.error?.link);
      }
      const requestId = res.headers.get('x-request-id');
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      const state = { buffer: '' };
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const data of feed(state, value)) {
          const d = parseDialectChunk(dialect, data);
          if (d.error) throw new Error(d.error);
          if (d.text) {
            ttfb ??= performance.now() - started;
            text += d.text;
            update();
          }
          if (d.usage) tokens = d.usage.total_tokens;
        }
      }
      const total = performance.now() - started;
      update({ tokens, ttfb, total, model: chosen });
      // The call's row is committed before the last byte: its credits are known now.
      const calls = await get<List<Call>>(`/api/user/model-calls${query({ pageSize: 10 })}`);
      const row = calls.list.find((c) => c.requestId === requestId);
      update({ tokens: tokens ?? row?.totalUsage, credits: row?.credits, ttfb, total, model: chosen });
    } catch (e) {
      if ((e as Error).name !== 'AbortError') setError(e as Error);
      update({ tokens, ttfb, total: performance.now() - started, model: chosen });
    } finally {
      setBusy(false);
      abort.current = null;
    }
  };

  return (
    <Box>
      <Stack direction={{ xs: 'column', md: 'row' }} spacing={2} alignItems="stretch">
        <Paper variant="outlined" sx={{ p: 2, width: { md: 300 }, flexShrink: 0 }}>
          <Stack spacing={2}>
            <Autocomplete
              options={options}
              value={chosen}
              onChange={(_, v) => setModel(v)}
              loading={models.loading}
              renderInput={(params) => <TextField {...params} label="Model" inputProps={{ ...params.inputProps, 'data-testid': 'model-picker' }} />}
            />
            <TextField select label="Client API" value={dialect} onChange={(e) => setDialect(e.target.value as Dialect)} inputProps={{ 'data-testid': 'dialect-picker' }}>
              {(Object.keys(DIALECTS) as Dialect[]).map((d) => (
                <MenuItem key={d} value={d}>
                  {DIALECTS[d].label}
                </MenuItem>
              ))}
            </TextField>
            <TextField label="System prompt" multiline minRows={3} value={system} onChange={(e) => setSystem(e.target.value)} />
            <TextField label="Temperature" type="number" inputProps={{ step: 0.1, min: 0, max: 2 }} value={temperature} onChange={(e) => setTemperature(e.target.value)} />
            <TextField label="Max tokens" type="number" inputProps={{ min: 1 }} value={maxTokens} onChange={(e) => setMaxTokens(e.target.value)} />
            <Button onClick={() => setMessages([])} disabled={busy || messages.length === 0}>
              Clear chat
            </Button>
          </Stack>
        </Paper>
        <Paper variant="outlined" sx={{ p: 2, flexGrow: 1, display: 'flex', flexDirection: 'column', minHeight: 420 }}>
          <ErrorAlert error={models.error ?? error} />
          <Stack spacing={2} sx={{ flexGrow: 1, overflowY: 'auto', mb: 2 }} aria-live="polite" data-testid="transcript">
            {messages.length === 0 ? (
              <Typography color="text.secondary">{options.length ? 'Ask something.' : 'No model is routable yet: add a provider and a credential.'}</Typography>
            ) : null}
            {messages.map((m, i) => (
              <Box key={i} sx={{ alignSelf: m.role === 'user' ? 'flex-end' : 'flex-start', maxWidth: '85%' }}>
                <Paper
                  sx={{ p: 1.5, bgcolor: m.role === 'user' ? 'primary.main' : 'action.hover', color: m.role === 'user' ? 'primary.contrastText' : 'text.primary' }}
                  data-testid={m.role === 'assistant' ? 'answer' : 'question'}
                >
                  <Typography sx={{ whiteSpace: 'pre-wrap' }}>{m.content || (busy && i === messages.length - 1 ? '…' : '')}</Typography>
                </Paper>
                {m.meta ? (
                  <Typography variant="caption" color="text.secondary" data-testid="answer-meta">
                    {m.meta.model} · {m.meta.tokens ?? '—'} tokens · {m.meta.credits != null ? `${fmt.credits(m.meta.credits)} credits` : 'credits —'} · first token{' '}
                    {fmt.ms(m.meta.ttfb)} · total {fmt.ms(m.meta.total)}
                  </Typography>
                ) : null}
              </Box>
            ))}
          </Stack>
          <Stack direction="row" spacing={1} component="form" onSubmit={(e) => (e.preventDefault(), send())}>
            <TextField
              fullWidth
              multiline
              maxRows={6}
              placeholder="Message"
              value={input}
              onChange={(e) => setInput(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && !e.shiftKey) {
                  e.preventDefault();
                  send();
                }
              }}
              inputProps={{ 'data-testid': 'prompt', 'aria-label': 'Message' }}
            />
            {busy ? (
              <Button variant="outlined" startIcon={<StopIcon />} onClick={() => abort.current?.abort()}>
                Stop
              </Button>
            ) : (
              <Button type="submit" variant="contained" endIcon={<SendIcon />} disabled={!chosen || !input.trim()}>
                Send
              </Button>
            )}
          </Stack>
        </Paper>
      </Stack>
    </Box>
  );
}
