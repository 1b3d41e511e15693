// The caller's entry: GET /call makes a v1 chat call and a v2 status call to the Hub with
// @blocklet/sdk's component.call and answers what the Hub answered.
'use strict';
const http = require('http');
const component = require(process.env.CALLER_SDK || '@blocklet/sdk/lib/component').default;

http
  .createServer(async (req, res) => {
    if (!req.url.startsWith('/call')) {
      res.end('caller ok');
      return;
    }
    try {
      const chat = await component.call(
        {
          name: 'ai-kit',
          method: 'POST',
          path: '/api/v1/chat/completions',
          data: { model: 'openai/gpt-5-mini', messages: [{ role: 'user', content: 'Hello from a blocklet' }] },
        },
        { retries: 0 },
      );
      const status = await component.call({ name: 'ai-kit', method: 'GET', path: '/api/v2/status' }, { retries: 0 });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ chat: chat.data, status: status.data, me: process.env.BLOCKLET_COMPONENT_DID }));
    } catch (e) {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: e.message, status: e.response?.status, data: e.response?.data }));
    }
  })
  .listen(Number(process.env.BLOCKLET_PORT), '0.0.0.0');
