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
