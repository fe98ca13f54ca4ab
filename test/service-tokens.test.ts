// Party tokens: format and randomness, the stored hash checked against node:crypto, matching
// against a project's parties, and the Authorization header.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bearerToken, hashToken, matchToken, newToken } from '../src/service/tokens.js';

describe('tokens', () => {
  it('are blt_ and 43 base64url characters (256 bits), all different', () => {
    const tokens = Array.from({ length: 200 }, newToken);
    for (const token of tokens) expect(token).toMatch(/^blt_[A-Za-z0-9_-]{43}$/);
    expect(new Set(tokens).size).toBe(200);
    expect(Buffer.from(tokens[0].slice(4), 'base64url')).toHaveLength(32);
  });

  it('are stored as the hex SHA-256 of their UTF-8, never as themselves', () => {
    const token = newToken();
    expect(hashToken(token)).toBe(createHash('sha256').update(token, 'utf8').digest('hex'));
    expect(hashToken(token)).not.toContain(token.slice(4, 12));
  });

  it('match the one party whose hash they have, and no party otherwise', () => {
    const tokens = [newToken(), newToken(), newToken()];
    const hashes = tokens.map(hashToken);
    expect(tokens.map((t) => matchToken(t, hashes))).toEqual([0, 1, 2]);
    expect(matchToken(newToken(), hashes)).toBe(-1);
    expect(matchToken(tokens[0], [])).toBe(-1);
    expect(matchToken(tokens[0].slice(0, -1), hashes)).toBe(-1);
  });

  it('come from an Authorization: Bearer header and nothing else', () => {
    expect(bearerToken('Bearer blt_abc')).toBe('blt_abc');
    expect(bearerToken('  Bearer blt_abc  ')).toBe('blt_abc');
    for (const header of [undefined, '', 'blt_abc', 'Basic blt_abc', 'Bearer', 'Bearer a b', `Bearer ${'x'.repeat(513)}`]) expect(bearerToken(header)).toBeNull();
  });
});
