// Identifiers of projects, uploads and runs: a kind prefix and 72 random bits, so ids can be
// shown and logged freely without being guessable (they are never credentials: tokens are).
import { randomBytes } from 'node:crypto';

export function newId(prefix: 'prj' | 'upl' | 'run'): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}

/** Ids as the API accepts them in a path. */
export const ID_PATTERN = '^(prj|upl|run)_[A-Za-z0-9_-]{12}$';
