// Server-sent events as the Hub's OpenAI-compatible stream sends them: `data: <json>` frames
// separated by blank lines, `: keep-alive` comments, and `data: [DONE]` at the end.

export interface SseState {
  buffer: string;
}

/** Feeds a chunk of text; returns the complete `data:` payloads it finished (comments skipped). */
export function feed(state: SseState, chunk: string): string[] {
  state.buffer += chunk.replace(/\r\n/g, '\n');
  const out: string[] = [];
  let end = state.buffer.indexOf('\n\n');
  while (end >= 0) {
    const frame = state.buffer.slice(0, end);
    state.buffer = state.buffer.slice(end + 2);
    const data = frame
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).replace(/^ /, ''))
      .join('\n');
    if (data) out.push(data);
    end = state.buffer.indexOf('\n\n');
  }
  return out;
}

export interface ChunkDelta {
  text: string;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  error?: string;
  done: boolean;
}

/** One payload of a chat completion stream. */
export function parseChunk(data: string): ChunkDelta {
  if (data === '[DONE]') return { text: '', done: true };
  try {
    const v = JSON.parse(data);
    if (v.error) return { text: '', error: v.error.message ?? String(v.error), done: true };
    const text = (v.choices ?? []).map((c: { delta?: { content?: string } }) => c.delta?.content ?? '').join('');
    return { text, usage: v.usage ?? undefined, done: false };
  } catch {
    return { text: '', done: false };
  }
}

/** The client APIs the playground can speak. */
export type Dialect = 'chat' | 'responses' | 'messages' | 'gemini';

/** One payload of a stream of `dialect`, read into the same delta (usage as a total only). */
export function parseDialectChunk(dialect: Dialect, data: string): ChunkDelta {
  if (dialect === 'chat') return parseChunk(data);
  let v;
  try {
    v = JSON.parse(data);
  } catch {
    return { text: '', done: false };
  }
  const total = (input: number, output: number) => ({ prompt_tokens: input, completion_tokens: output, total_tokens: input + output });
  if (dialect === 'gemini') {
    if (v.error) return { text: '', error: v.error.message ?? 'the stream failed', done: true };
    const candidate = v.candidates?.[0];
    const text = (candidate?.content?.parts ?? [])
      .filter((p: { thought?: boolean }) => !p.thought)
      .map((p: { text?: string }) => p.text ?? '')
      .join('');
    const u = v.usageMetadata;
    const done = candidate?.finishReason != null;
    return { text, usage: done && u ? total(u.promptTokenCount ?? 0, u.candidatesTokenCount ?? 0) : undefined, done };
  }
  if (dialect === 'responses') {
    switch (v.type) {
      case 'response.output_text.delta':
        return { text: v.delta ?? '', done: false };
      case 'response.completed':
      case 'response.incomplete':
        return { text: '', usage: v.response?.usage ? total(v.response.usage.input_tokens, v.response.usage.output_tokens) : undefined, done: true };
      case 'error':
      case 'response.failed':
        return { text: '', error: v.message ?? v.response?.error?.message ?? 'the stream failed', done: true };
      default:
        return { text: '', done: false };
    }
  }
  switch (v.type) {
    case 'content_block_delta':
      return { text: v.delta?.type === 'text_delta' ? (v.delta.text ?? '') : '', done: false };
    case 'message_delta':
      return { text: '', usage: v.usage ? total(v.usage.input_tokens ?? 0, v.usage.output_tokens ?? 0) : undefined, done: false };
    case 'message_stop':
      return { text: '', done: true };
    case 'error':
      return { text: '', error: v.error?.message ?? 'the stream failed', done: true };
    default:
      return { text: '', done: false };
  }
}
