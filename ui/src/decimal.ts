/**
 * Credit amounts and rates are exact decimal strings from the server; the console never turns
 * them into floating-point numbers to show or edit them. Moving the decimal point by a power of
 * ten (per token ↔ per million tokens) is done on the digits themselves.
 */

const DECIMAL = /^(-?)(\d*)(?:\.(\d*))?$/;

/** `value` × 10^places, exactly; `null` when `value` is not a plain decimal (no exponent). */
export function shift(value: string, places: number): string | null {
  const m = DECIMAL.exec(value.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const [, sign, int, frac = ''] = m;
  let digits = int + frac;
  let point = int.length + places;
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  }
  if (point > digits.length) digits += '0'.repeat(point - digits.length);
  const whole = digits.slice(0, point).replace(/^0+(?=\d)/, '') || '0';
  const rest = digits.slice(point).replace(/0+$/, '');
  const out = rest ? `${whole}.${rest}` : whole;
  return sign && /[1-9]/.test(out) ? `-${out}` : out;
}

/** A decimal string as typed or stored, with trailing zeros trimmed (`"1.2500"` → `"1.25"`). */
export function plain(value: string): string {
  return shift(value, 0) ?? value;
}
