import { describe, expect, it } from 'vitest';

import { feed, parseChunk, parseDialectChunk } from './sse';

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

  it('reads the Responses and Messages streams into the same deltas', () => {
    expect(parseDialectChunk('responses', '{"type":"response.output_text.delta","delta":"Hel","sequence_number":4}').text).toBe('Hel');
    const done = parseDialectChunk('responses', '{"type":"response.completed","response":{"usage":{"input_tokens":3,"output_tokens":2}}}');
    expect([done.usage?.total_tokens, done.done]).toEqual([5, true]);
    expect(parseDialectChunk('responses', '{"type":"error","message":"boom"}').error).toBe('boom');
    expect(parseDialectChunk('messages', '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}}').text).toBe('lo');
    expect(parseDialectChunk('messages', '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{"}}').text).toBe('');
    expect(parseDialectChunk('messages', '{"type":"message_delta","usage":{"input_tokens":4,"output_tokens":6}}').usage?.total_tokens).toBe(10);
    expect(parseDialectChunk('messages', '{"type":"error","error":{"type":"api_error","message":"cut"}}').error).toBe('cut');
    expect(parseDialectChunk('messages', '{"type":"message_stop"}').done).toBe(true);
    const thought = '{"candidates":[{"content":{"role":"model","parts":[{"text":"hmm","thought":true},{"text":"Hi"}]},"index":0}]}';
    expect(parseDialectChunk('gemini', thought)).toEqual({ text: 'Hi', usage: undefined, done: false });
    const last = parseDialectChunk('gemini', '{"candidates":[{"content":{"role":"model","parts":[]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":4,"totalTokenCount":7}}');
    expect(last.done).toBe(true);
    expect(last.usage?.total_tokens).toBe(7);
    expect(parseDialectChunk('gemini', '{"error":{"code":502,"message":"cut","status":"INTERNAL"}}').error).toBe('cut');
  });
});
