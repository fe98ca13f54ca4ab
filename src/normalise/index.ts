// Field normalisers applied by custodians before tokenising, and a factory that picks one by the
// name a schema gives it.
import { normaliseAddress } from './address.js';
import { normaliseDate, type DateOrder } from './date.js';
import { digitsOnly } from './digits.js';
import { foldText } from './text.js';

export { foldText } from './text.js';
export { normaliseAddress } from './address.js';
export { parseDate, formatDate, normaliseDate, type DateOrder, type CalendarDate } from './date.js';
export { digitsOnly } from './digits.js';

export type NormaliserName = 'none' | 'text' | 'name' | 'address' | 'date' | 'digits';

export interface NormaliserOptions {
  dateOrder?: DateOrder;
  pivotYear?: number;
  /** For 'digits': keep only this many leading digits. */
  digits?: number;
}

/** A normaliser; null means the value is not valid for the field (only dates produce it). */
export type Normaliser = (value: string) => string | null;

const NAME_AFFIXES: ReadonlySet<string> = new Set(['mr', 'mrs', 'ms', 'dr', 'jr', 'sr', 'ii', 'iii', 'iv']);

/**
 * foldText, then honorifics and generational suffixes (mr, mrs, ms, dr, jr, sr, ii, iii, iv)
 * dropped, but only as whole words at the start or end: "Drew" and a middle "Dr" are untouched.
 * One word always remains, so a field that holds only "Ms" is not emptied.
 */
export function normaliseName(value: string): string {
  const folded = foldText(value);
  if (folded.indexOf(' ') < 0) return folded;
  const words = folded.split(' ');
  let start = 0;
  let end = words.length;
  while (end - start > 1 && NAME_AFFIXES.has(words[start])) start++;
  while (end - start > 1 && NAME_AFFIXES.has(words[end - 1])) end--;
  return start === 0 && end === words.length ? folded : words.slice(start, end).join(' ');
}

/** Returns the normaliser a schema names; options are validated here, once, not per value. */
export function makeNormaliser(name: NormaliserName, options: NormaliserOptions = {}): Normaliser {
  switch (name) {
    case 'none':
      return (value) => value;
    case 'text':
      return foldText;
    case 'name':
      return normaliseName;
    case 'address':
      return normaliseAddress;
    case 'date': {
      const order = options.dateOrder ?? 'MDY';
      if (order !== 'MDY' && order !== 'DMY' && order !== 'YMD') {
        throw new RangeError(`dateOrder must be MDY, DMY or YMD, got ${String(order)}`);
      }
      const pivot = options.pivotYear ?? 30;
      normaliseDate('', order, pivot); // throws RangeError now for a bad pivot year
      return (value) => normaliseDate(value, order, pivot);
    }
    case 'digits': {
      const keep = options.digits;
      digitsOnly('', keep); // throws RangeError now for a bad digit count
      return (value) => digitsOnly(value, keep);
    }
    default: {
      const unknown: never = name;
      throw new RangeError(`unknown normaliser: ${String(unknown)}`);
    }
  }
}
