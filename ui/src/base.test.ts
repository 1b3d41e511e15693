import { describe, expect, it } from 'vitest';

import { mountPoint, under } from './base';

describe('mount point', () => {
  it('is empty at the root and the prefix without its slash below it', () => {
    expect(mountPoint('http://hub.example/')).toBe('');
    expect(mountPoint('http://app.example/aigne-hub/')).toBe('/aigne-hub');
    expect(mountPoint('http://app.example/a/b/')).toBe('/a/b');
  });

  it('puts the Hub\'s own paths under it and leaves other URLs alone', () => {
    expect(under('/api/user/info', '')).toBe('/api/user/info');
    expect(under('/api/user/info', '/aigne-hub')).toBe('/aigne-hub/api/user/info');
    expect(under('https://pay.example/checkout', '/aigne-hub')).toBe('https://pay.example/checkout');
    expect(under('//cdn.example/x.png', '/aigne-hub')).toBe('//cdn.example/x.png');
  });
});
