import { describe, expect, it } from 'vitest';
import { hashToken, looksLikeToken, newToken, TOKEN_BYTES, verifyToken } from '../../orchestrator/classroom/tokens.js';

describe('classroom tokens', () => {
  it('makes URL-safe tokens of 32 random bytes', () => {
    const t = newToken();
    expect(TOKEN_BYTES).toBe(32);
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(t, 'base64url')).toHaveLength(32);
    expect(encodeURIComponent(t)).toBe(t);
    expect(looksLikeToken(t)).toBe(true);
  });

  it('never makes the same token twice', () => {
    const seen = new Set(Array.from({ length: 2000 }, () => newToken()));
    expect(seen.size).toBe(2000);
  });

  it('hashes deterministically to sha256 hex, different per token', () => {
    const t = newToken();
    expect(hashToken(t)).toBe(hashToken(t));
    expect(hashToken(t)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(t)).not.toContain(t);
    expect(hashToken(t)).not.toBe(hashToken(newToken()));
    // The well-known sha256 of "abc".
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('verifies a token against its hash, and nothing else', () => {
    const t = newToken();
    const h = hashToken(t);
    expect(verifyToken(t, h)).toBe(true);
    expect(verifyToken(t, h.toUpperCase())).toBe(true); // hex is case-insensitive
    expect(verifyToken(newToken(), h)).toBe(false);
    expect(verifyToken(`${t}x`, h)).toBe(false);
    expect(verifyToken(t.slice(1), h)).toBe(false);
    expect(verifyToken(t, hashToken(`${t} `))).toBe(false);
    // Stored hashes of the wrong shape never match (and never throw in timingSafeEqual).
    expect(verifyToken(t, '')).toBe(false);
    expect(verifyToken(t, h.slice(0, 62))).toBe(false);
    expect(verifyToken(t, `${h}00`)).toBe(false);
    expect(verifyToken(t, 'not hex at all')).toBe(false);
    expect(verifyToken('', hashToken(''))).toBe(true);
  });

  it('refuses anything that is not shaped like a token', () => {
    for (const v of [
      undefined,
      null,
      42,
      {},
      ['a'.repeat(43)],
      '',
      'short',
      'a'.repeat(19),
      'a'.repeat(101),
      `${'a'.repeat(42)}=`,
      `${'a'.repeat(42)}+`,
      `${'a'.repeat(42)}/`,
      `${'a'.repeat(42)} `,
      `${'a'.repeat(42)}\n`,
      `${'a'.repeat(42)}é`,
      "' OR 1=1 --aaaaaaaaaaaaaaaa",
      '../../../../etc/passwd/aaaa',
    ])
      expect(looksLikeToken(v), JSON.stringify(v)).toBe(false);
    for (const v of ['a'.repeat(20), 'a'.repeat(100), 'Ab0_-'.repeat(8)]) expect(looksLikeToken(v)).toBe(true);
  });
});
