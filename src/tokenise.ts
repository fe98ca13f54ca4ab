// Prepared field value -> tokens. q-grams follow clkhash exactly (padding with q-1 spaces,
// optional 1-based position prefix, duplicates kept, counted in code points).
import type { Tokeniser } from './types.js';

const ASCII_ONLY = /^[\x00-\x7f]*$/;

/** Tokens of a prepared value; an empty value has none. */
export function tokenise(value: string, tokeniser: Tokeniser): string[] {
  if (value.length === 0) return [];
  switch (tokeniser.type) {
    case 'exact':
      return [value];
    case 'qgram':
      return qgrams(value, tokeniser.q, tokeniser.padded, tokeniser.positional);
    case 'date':
      return dateTokens(value);
    case 'numeric':
      return numericTokens(value, tokeniser.distance, tokeniser.resolution);
  }
}

function qgrams(value: string, q: number, padded: boolean, positional: boolean): string[] {
  const padding = padded && q > 1 ? ' '.repeat(q - 1) : '';
  const text = padding + value + padding;
  const tokens: string[] = [];
  if (ASCII_ONLY.test(text)) {
    for (let i = 0; i + q <= text.length; i++) {
      const gram = text.slice(i, i + q);
      tokens.push(positional ? `${i + 1} ${gram}` : gram);
    }
    return tokens;
  }
  const points = Array.from(text);
  for (let i = 0; i + q <= points.length; i++) {
    const gram = points.slice(i, i + q).join('');
    tokens.push(positional ? `${i + 1} ${gram}` : gram);
  }
  return tokens;
}

// Year, month and day as separate tokens keep partial agreement (a wrong day still matches on
// year and month); the unordered day-month pair survives the common day/month swap.
function dateTokens(canonical: string): string[] {
  const year = canonical.slice(0, 4);
  const month = canonical.slice(4, 6);
  const day = canonical.slice(6, 8);
  const pair = month < day ? month + day : day + month;
  return [`y${year}`, `m${month}`, `d${day}`, `p${pair}`];
}

// `resolution` staggered grids of cell width `distance`: two values share one token for every
// grid in which they fall into the same cell, so closer values share more tokens.
function numericTokens(value: string, distance: number, resolution: number): string[] {
  const number = Number(value);
  if (!Number.isFinite(number)) return [];
  const tokens: string[] = [];
  for (let grid = 0; grid < resolution; grid++) {
    const shift = (grid * distance) / resolution;
    tokens.push(`${grid}:${Math.floor((number + shift) / distance)}`);
  }
  return tokens;
}

/** Bits per token: a fixed k, or clkhash's bitsPerFeature split (the first budget % n tokens get one more). */
export function bitsPerToken(tokenCount: number, budget: { perToken: number } | { perField: number }): number[] {
  if ('perToken' in budget) return new Array<number>(tokenCount).fill(budget.perToken);
  if (tokenCount === 0) return [];
  const base = Math.floor(budget.perField / tokenCount);
  const extra = budget.perField % tokenCount;
  return Array.from({ length: tokenCount }, (_, i) => (i < extra ? base + 1 : base));
}
