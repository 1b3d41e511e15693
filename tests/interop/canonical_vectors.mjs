// Generates random JSON texts and their canonical form by the real `json-stable-stringify` (the
// package @blocklet/sdk signs with). Prints JSON lines {text, canonical}.
// Usage: node canonical_vectors.mjs <count> <seed>
import stringify from 'json-stable-stringify';

const count = Number(process.argv[2] || 1000);
let state = Number(process.argv[3] || 1) >>> 0;
// mulberry32: a small seeded PRNG, so a failure can be replayed with the same seed.
function rand() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(rand() * n);
const pick = (xs) => xs[int(xs.length)];
const digits = (n) => Array.from({ length: n }, (_, i) => (i === 0 ? 1 + int(9) : int(10))).join('');

function numberText() {
  switch (int(10)) {
    case 0: return String(int(1000) - 500);
    case 1: return (rand() < 0.5 ? '-' : '') + digits(1 + int(25)); // past 2^53 and 1e21
    case 2: return pick(['0', '-0', '0.0', '-0.0', '1e21', '1e20', '999999999999999999999', '1e-6', '1e-7', '0.000001', '0.0000001', '5e-324', '1.7976931348623157e308', '2.2250738585072014e-308', '9007199254740993', '0.1', '0.30000000000000004', '123456789012345678901234567890']);
    case 3: { // random bits
      const buf = new DataView(new ArrayBuffer(8));
      buf.setUint32(0, int(2 ** 32)); buf.setUint32(4, int(2 ** 32));
      const x = buf.getFloat64(0);
      return Number.isFinite(x) ? String(x) : '1.5';
    }
    // Exponents keep the value finite: past 1.8e308 JSON.parse makes Infinity (signed as null),
    // which the Hub refuses as out of range instead.
    case 4: return `${rand() < 0.5 ? '-' : ''}${digits(1 + int(17))}.${digits(1 + int(17))}e${int(580) - 300}`;
    case 5: return `${digits(1 + int(3))}.${digits(1 + int(6))}E+${int(40)}`;
    case 6: return `0.${'0'.repeat(int(10))}${digits(1 + int(8))}`;
    case 7: return String(rand() * 10 ** (int(40) - 20));
    case 8: return `${int(100)}.${'0'.repeat(1 + int(3))}`;
    default: return String(int(2 ** 31) * (rand() < 0.5 ? -1 : 1));
  }
}

const pieces = ['a', 'b', 'Z', '0', ' ', '_', 'é', 'ß', '中', '～', '\u2028', '😀', '𝄞', '"', '\\', '/', '\n', '\t', '\b', '\f', '\r', '\u0001', '\u001f', '\u007f', 'key', 'A', '~'];
function stringText() {
  let s = '';
  for (let i = int(8); i > 0; i--) s += pick(pieces);
  let text = JSON.stringify(s);
  // Sometimes spell characters with \u escapes in the input text (both sides must decode them).
  if (rand() < 0.2) {
    const escape = (c) => Array.from({ length: c.length }, (_, k) => '\\u' + c.charCodeAt(k).toString(16).padStart(4, '0')).join('');
    text = text.replace(/[é😀]/gu, escape);
  }
  return text;
}

function valueText(depth) {
  const r = int(depth > 3 ? 5 : 8);
  if (r === 0) return 'null';
  if (r === 1) return rand() < 0.5 ? 'true' : 'false';
  if (r === 2 || r === 3) return numberText();
  if (r === 4) return stringText();
  if (r === 5) {
    const items = Array.from({ length: int(5) }, () => valueText(depth + 1));
    return `[${items.join(rand() < 0.3 ? ' , ' : ',')}]`;
  }
  const keys = new Set();
  for (let i = int(6); i > 0; i--) keys.add(stringText());
  const entries = [...keys].map((k) => `${k}:${valueText(depth + 1)}`);
  return `{${entries.join(',')}}`;
}

const out = [];
for (let i = 0; i < count; i++) {
  const text = valueText(0);
  const parsed = JSON.parse(text);
  // Keys equal after decoding escapes ("é" and "\\u00e9"): JSON.parse and serde_json both keep
  // the last value, and the canonical form sorts keys, so the two still agree.
  out.push(JSON.stringify({ text, canonical: stringify(parsed) }));
}
process.stdout.write(out.join('\n') + '\n');
