// A small OpenAI-compatible upstream for demos and screenshots (the Rust tests use their own
// mock): POST /v1/chat/completions answers JSON or SSE with usage, echoing a canned reply.
// Prints its port on the first line of stdout.
import http from 'node:http';

const REPLY =
  'AIGNE Hub routes each call to a provider and one of its keys, streams the answer back in the format your client speaks, and records every call with its tokens, credits and latency.';

const server = http.createServer((req, res) => {
  let raw = '';
  req.on('data', (c) => (raw += c));
  req.on('end', () => {
    if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
    }
    const body = JSON.parse(raw || '{}');
    const prompt = JSON.stringify(body.messages ?? []).length;
    const promptTokens = Math.max(8, Math.round(prompt / 4));
    const words = REPLY.split(' ');
    const completionTokens = Math.min(body.max_tokens ?? words.length, words.length) + 3;
    const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
    const base = { id: `chatcmpl-${Date.now()}`, created: Math.floor(Date.now() / 1000), model: body.model };
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: REPLY } }], usage }));
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const frame = (v) => res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', ...v })}\n\n`);
    let i = 0;
    const tick = setInterval(() => {
      if (i < words.length) {
        frame({ choices: [{ index: 0, delta: { content: (i ? ' ' : '') + words[i] }, finish_reason: null }] });
        i += 1;
        return;
      }
      clearInterval(tick);
      frame({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
      frame({ choices: [], usage });
      res.end('data: [DONE]\n\n');
    }, 15);
  });
});
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => console.log(server.address().port));
