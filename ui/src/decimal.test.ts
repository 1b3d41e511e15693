import { describe, expect, it } from 'vitest';

import { plain, shift } from './decimal';

describe('shift', () => {
  it('moves the point exactly, both ways', () => {
    expect(shift('0.0000025', 6)).toBe('2.5');
    expect(shift('2.5', -6)).toBe('0.0000025');
    expect(shift('0.000000123456789012', 6)).toBe('0.123456789012');
    expect(shift('3', 6)).toBe('3000000');
    expect(shift('-0.5', 1)).toBe('-5');
    expect(shift('0.1', 0)).toBe('0.1');
  });

  it('round-trips values a float would change', () => {
    // 0.1 + 0.2 style digits, and more than 17 significant digits.
    for (const v of ['0.3', '0.000000100000000000000001', '123456789.123456789123456789']) {
      expect(shift(shift(v, 6) ?? '', -6)).toBe(v);
    }
  });

  it('refuses what is not a plain decimal', () => {
    for (const v of ['', '.', '1e-7', '1,5', 'abc', '--1']) expect(shift(v, 6)).toBeNull();
  });

  it('trims zeros and keeps no negative zero', () => {
    expect(plain('1.2500')).toBe('1.25');
    expect(plain('007')).toBe('7');
    expect(plain('-0.000')).toBe('0');
    expect(plain('.5')).toBe('0.5');
  });
});
