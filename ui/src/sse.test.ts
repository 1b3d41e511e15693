import { describe, expect, it } from 'vitest';

import { feed, parseChunk } from './sse';

describe('sse', () => {
  it('splits frames across chunks and skips comments', () => {
    const s = { buffer: '' };
    expect(feed(s, ': keep-alive\n\ndata: {"a"')).toEqual([]);
    expect(feed(s, ':1}\n\ndata: [DONE]\n\n')).toEqual(['{"a":1}', '[DONE]']);
    expect(s.buffer).toBe('');
  });

  it('handles CRLF and multi-line data', () => {
    const s = { buffer: '' };
    expect(feed(s, 'data: x\r\ndata: y\r\n\r\n')).toEqual(['x\ny']);
  });

  it('reads deltas, usage, errors and the end', () => {
    expect(parseChunk('{"choices":[{"delta":{"content":"Hel"}}]}')).toEqual({ text: 'Hel', usage: undefined, done: false });
    const u = parseChunk('{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}');
    expect(u.usage?.total_tokens).toBe(5);
    expect(parseChunk('{"error":{"message":"boom"}}')).toEqual({ text: '', error: 'boom', done: true });
    expect(parseChunk('[DONE]').done).toBe(true);
  });
});
