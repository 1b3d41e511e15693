// An OpenAI-compatible upstream for the Hub on the real server: `/v1/chat/completions` answers
// JSON or SSE in OpenAI's documented shapes; the model `long-story` streams 400 words, one every
// 25 ms (10 s), so a stop can land in the middle of it.
'use strict';

const http = require('http');

const WORDS = 400;
const PACE_MS = 25;

function chunk(model, delta, extra = {}) {
  return `data: ${JSON.stringify({
    id: 'chatcmpl-bs',
    object: 'chat.completion.chunk',
    created: 1,
    model,
    choices: [{ index: 0, delta, finish_reason: null }],
    ...extra,
  })}\n\n`;
}

function start() {
  const calls = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' } }));
        return;
      }
      const json = JSON.parse(body || '{}');
      calls.push({ model: json.model, stream: !!json.stream, auth: req.headers.authorization });
      const model = json.model || 'gpt-5-mini';
      if (!json.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'chatcmpl-bs',
            object: 'chat.completion',
            created: 1,
            model,
            choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the mock.' }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(chunk(model, { role: 'assistant', content: '' }));
      const words = model === 'long-story' ? WORDS : 3;
      let closed = false;
      res.on('close', () => (closed = true));
      for (let i = 0; i < words && !closed; i++) {
        if (model === 'long-story') await new Promise((r) => setTimeout(r, PACE_MS));
        res.write(chunk(model, { content: `word${i} ` }));
      }
      if (closed) return;
      res.write(chunk(model, {}, { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }));
      res.write(
        `data: ${JSON.stringify({ id: 'chatcmpl-bs', object: 'chat.completion.chunk', created: 1, model, choices: [], usage: { prompt_tokens: 12, completion_tokens: words, total_tokens: 12 + words } })}\n\n`,
      );
      res.end('data: [DONE]\n\n');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ base: `http://127.0.0.1:${port}/v1`, calls, close: () => server.close() });
    }),
  );
}

module.exports = { start, WORDS, PACE_MS };
