// Street-address normalisation: folded text with each word replaced by its USPS Publication 28
// abbreviation, so "123 North Main Street Apt 4" and "123 N. MAIN ST. #4" encode identically.
import { foldTextKeepingHash } from './text.js';
import {
  DIRECTIONALS,
  LEADING_EXPANSIONS,
  ORDINAL_WORDS,
  STREET_SUFFIXES,
  UNIT_DESIGNATORS,
} from './usps-tables.js';

const UNIT_CANONICAL: ReadonlySet<string> = new Set(UNIT_DESIGNATORS.values());

/** A house or unit number: digits, optionally one trailing letter ("12", "221b"). Not "1st". */
function isNumber(word: string): boolean {
  let i = 0;
  while (i < word.length && word.charCodeAt(i) >= 0x30 && word.charCodeAt(i) <= 0x39) i++;
  return i > 0 && (i === word.length || (i === word.length - 1 && word.charCodeAt(i) >= 0x61));
}

/** Words that carry structure rather than name: numbers, `#`, directionals, unit designators. */
function isStructural(word: string): boolean {
  return word === '#' || isNumber(word) || DIRECTIONALS.has(word) || UNIT_DESIGNATORS.has(word);
}

/** Could the word be part of a street's proper name? */
function isNameWord(word: string | undefined): boolean {
  return word !== undefined && !isStructural(word) && !STREET_SUFFIXES.has(word);
}

/**
 * Canonical address text. Directionals, unit designators and ordinal words (FIRST..TWENTIETH)
 * are always abbreviated; `#` becomes "apt" unless a designator already precedes it.
 *
 * Street suffixes are abbreviated everywhere except in one position. The leading word is the
 * first word that is not a number, `#`, directional or unit designator. If the leading word is
 * followed by a name word (anything not in those classes and not a suffix), it opens the
 * street name and is not a suffix: "12 St Charles Ave" is Saint Charles and "45 Court House Rd"
 * keeps "court". Leading St/Mt/Ft/Pt expand to saint/mount/fort/point so both spellings agree.
 * Otherwise ("8 North St", "9 Court St", "42 Highway 9") the leading word is a suffix as usual.
 * Not handled: a saint that is not leading ("Rue St Denis" becomes "rue st denis").
 */
export function normaliseAddress(value: string): string {
  const folded = foldTextKeepingHash(value);
  if (folded === '') return '';
  const words = folded.split(' ');
  let leading = -1;
  for (let i = 0; i < words.length && leading < 0; i++) {
    if (!isStructural(words[i])) leading = i;
  }

  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word === '#') {
      const previous = out[out.length - 1];
      const dangling = i === words.length - 1;
      if (!dangling && (previous === undefined || !UNIT_CANONICAL.has(previous))) out.push('apt');
      continue;
    }
    const fixed = ORDINAL_WORDS.get(word) ?? DIRECTIONALS.get(word) ?? UNIT_DESIGNATORS.get(word);
    if (fixed !== undefined) out.push(fixed);
    else if (i === leading && isNameWord(words[i + 1])) out.push(LEADING_EXPANSIONS.get(word) ?? word);
    else out.push(STREET_SUFFIXES.get(word) ?? word);
  }
  return out.join(' ');
}
