// Corruptions that turn a registry record into the messier copy another agency holds: keyboard
// typos, phonetic and OCR variants, nicknames, swapped day and month, a move, blanks, a new surname.
import { alternativeNames } from './nicknames.js';
import { drawAddress, type Person } from './people.js';
import type { Random } from './random.js';
import type { Vocabulary } from './vocabulary.js';

/** Per-record probabilities; each kind is applied at most once, independently of the others. */
export interface CorruptionRates {
  /** One keyboard typo (insert, delete, substitute a QWERTY neighbour, transpose) in a name or address field. */
  typo: number;
  /** One spelling variant that sounds the same (ph/f, ck/k, ie/y, doubled letters...). */
  phonetic: number;
  /** One scanning confusion (0/O, 1/l, 5/S, rn/m...). */
  ocr: number;
  /** Given name replaced by a nickname or the formal name (only names in the nickname table). */
  nickname: number;
  /** Day and month of birth swapped (only when the day is 12 or less and differs from the month). */
  dateSwap: number;
  /** A different address: new street, city, state and ZIP. */
  move: number;
  /** One field left blank: middle name, date of birth, street, city or ZIP. */
  missing: number;
  /** A new surname after marriage (women only), sometimes hyphenated with the old one. */
  surnameChange: number;
}

// Defaults chosen as a moderately dirty inter-agency extract: addresses go stale fastest (the
// motivating case asked for last-known addresses), names carry a typo in one record of five.
export const DEFAULT_CORRUPTION: Readonly<CorruptionRates> = {
  typo: 0.2,
  phonetic: 0.1,
  ocr: 0.03,
  nickname: 0.1,
  dateSwap: 0.02,
  move: 0.2,
  missing: 0.1,
  surnameChange: 0.05,
};

/** Multiplies every rate by `factor`, capped at 1: 0 turns corruption off, 2 is a heavy setting. */
export function scaleRates(rates: Readonly<CorruptionRates>, factor: number): CorruptionRates {
  const scaled = { ...rates };
  for (const key of Object.keys(scaled) as Array<keyof CorruptionRates>) scaled[key] = Math.min(1, rates[key] * factor);
  return scaled;
}

const KEYBOARD_ROWS = ['1234567890', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm'];

// Neighbours on a staggered QWERTY layout: left and right, and the two keys above and below.
// Letters slip to letters and digits to digits: a digit inside a surname reads as OCR noise, not a typo.
const NEIGHBOURS: ReadonlyMap<string, string> = (() => {
  const map = new Map<string, string>();
  const isDigit = (key: string): boolean => key >= '0' && key <= '9';
  KEYBOARD_ROWS.forEach((row, r) => {
    for (let i = 0; i < row.length; i++) {
      const near = [row[i - 1], row[i + 1], KEYBOARD_ROWS[r - 1]?.[i], KEYBOARD_ROWS[r - 1]?.[i + 1], KEYBOARD_ROWS[r + 1]?.[i - 1], KEYBOARD_ROWS[r + 1]?.[i]];
      const sameKind = near.filter((key): key is string => key !== undefined && isDigit(key) === isDigit(row[i]));
      map.set(row[i], sameKind.join(''));
    }
  });
  return map;
})();

function isUpper(ch: string): boolean {
  return ch !== ch.toLowerCase();
}

/** Keyboard neighbours of a character, in the character's case; empty when it is not on the main block. */
export function keyboardNeighbours(ch: string): string {
  const near = NEIGHBOURS.get(ch.toLowerCase()) ?? '';
  return isUpper(ch) ? near.toUpperCase() : near;
}

/**
 * One keyboard slip: insert a neighbour of the previous key, delete a character, substitute a
 * QWERTY neighbour, or transpose two different adjacent characters. Damerau distance is exactly 1.
 * The first character is never deleted, moved or preceded, so capitalisation stays plausible.
 *
 * @example keyboardTypo('Johnson', rng); // e.g. 'Jphnson', 'Johnsn', 'Jonhson' or 'Johnsson'
 */
export function keyboardTypo(text: string, rng: Random): string {
  if (text.length === 0) return text;
  const operations: Array<() => string> = [];
  const substitutable: number[] = [];
  for (let i = 0; i < text.length; i++) if (keyboardNeighbours(text[i]).length > 0) substitutable.push(i);
  if (substitutable.length > 0) {
    operations.push(() => {
      const i = rng.pick(substitutable);
      return text.slice(0, i) + rng.pick([...keyboardNeighbours(text[i])]) + text.slice(i + 1);
    });
  }
  operations.push(() => {
    const i = rng.range(1, text.length);
    const previous = text[i - 1];
    const near = keyboardNeighbours(previous.toLowerCase());
    const inserted = near.length > 0 ? rng.pick([...near]) : 'etaoinshr'[rng.int(9)];
    return text.slice(0, i) + (text === text.toUpperCase() ? inserted.toUpperCase() : inserted) + text.slice(i);
  });
  if (text.length >= 2) {
    operations.push(() => {
      const i = rng.range(1, text.length - 1);
      return text.slice(0, i) + text.slice(i + 1);
    });
  }
  const swappable: number[] = [];
  for (let i = 1; i + 1 < text.length; i++) if (text[i] !== text[i + 1]) swappable.push(i);
  if (swappable.length > 0) {
    operations.push(() => {
      const i = rng.pick(swappable);
      return text.slice(0, i) + text[i + 1] + text[i] + text.slice(i + 2);
    });
  }
  return rng.pick(operations)();
}

type Context = 'any' | 'start' | 'end' | 'inner' | 'beforeBackVowel';

// Spellings that sound alike in American English; each rule applies in both directions.
const PHONETIC_RULES: ReadonlyArray<readonly [string, string, Context]> = [
  ['ph', 'f', 'any'],
  ['ck', 'k', 'inner'],
  ['ie', 'y', 'end'],
  ['ei', 'ie', 'inner'],
  ['ee', 'ea', 'inner'],
  ['c', 'k', 'beforeBackVowel'],
  ['s', 'z', 'inner'],
  ['th', 't', 'any'],
  ['y', 'i', 'inner'],
  ['mc', 'mac', 'start'],
  ['sch', 'sh', 'any'],
  ['x', 'ks', 'inner'],
  ['ou', 'ow', 'inner'],
  ['ai', 'ay', 'inner'],
  ['er', 'ar', 'end'],
];
const DOUBLING_LETTERS = 'bdfglmnprstz';

// Confusions of optical character recognition on scanned forms; case-sensitive, both directions.
const OCR_RULES: ReadonlyArray<readonly [string, string]> = [
  ['0', 'O'],
  ['0', 'o'],
  ['1', 'l'],
  ['1', 'I'],
  ['5', 'S'],
  ['8', 'B'],
  ['2', 'Z'],
  ['6', 'G'],
  ['rn', 'm'],
  ['cl', 'd'],
  ['vv', 'w'],
  ['li', 'h'],
];

interface Edit {
  at: number;
  length: number;
  replacement: string;
}

function isLetter(ch: string | undefined): boolean {
  return ch !== undefined && ch.toLowerCase() !== ch.toUpperCase();
}

function fits(lower: string, at: number, length: number, context: Context): boolean {
  const atStart = !isLetter(lower[at - 1]);
  const atEnd = !isLetter(lower[at + length]);
  switch (context) {
    case 'any':
      return true;
    case 'start':
      return atStart;
    case 'end':
      return atEnd && !atStart;
    case 'inner':
      return !atStart && !atEnd;
    case 'beforeBackVowel':
      return 'aou'.includes(lower[at + length] ?? '-');
  }
}

function occurrences(haystack: string, needle: string): number[] {
  const found: number[] = [];
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) found.push(at);
  return found;
}

// The replacement takes the case of the text it replaces: Philip -> Filip, PHILIP -> FILIP.
function applyEdit(text: string, edit: Edit): string {
  const original = text.slice(edit.at, edit.at + edit.length);
  let replacement = edit.replacement;
  if (original.length > 1 && original === original.toUpperCase() && isLetter(original[0])) replacement = replacement.toUpperCase();
  else if (isUpper(original[0])) replacement = replacement.charAt(0).toUpperCase() + replacement.slice(1);
  return text.slice(0, edit.at) + replacement + text.slice(edit.at + edit.length);
}

function phoneticEdits(text: string): Edit[] {
  const lower = text.toLowerCase();
  const edits: Edit[] = [];
  for (const [one, other, context] of PHONETIC_RULES) {
    for (const [from, to] of [[one, other], [other, one]]) {
      for (const at of occurrences(lower, from)) {
        if (fits(lower, at, from.length, context)) edits.push({ at, length: from.length, replacement: to });
      }
    }
  }
  for (let i = 1; i < lower.length; i++) {
    const ch = lower[i];
    if (!DOUBLING_LETTERS.includes(ch)) continue;
    if (lower[i + 1] === ch) edits.push({ at: i, length: 2, replacement: ch });
    else if (lower[i - 1] !== ch && isLetter(lower[i - 1])) edits.push({ at: i, length: 1, replacement: ch + ch });
  }
  return edits;
}

/**
 * One spelling that sounds the same, or `text` unchanged when no rule applies.
 *
 * @example phoneticVariant('Philip', rng); // e.g. 'Filip' or 'Phillip'
 */
export function phoneticVariant(text: string, rng: Random): string {
  const edits = phoneticEdits(text);
  return edits.length === 0 ? text : applyEdit(text, rng.pick(edits));
}

/**
 * One OCR confusion, or `text` unchanged when none applies.
 *
 * @example ocrVariant('105 Elm Street', rng); // e.g. 'l05 Elm Street' or '1O5 Elm Street'
 */
export function ocrVariant(text: string, rng: Random): string {
  const edits: Edit[] = [];
  for (const [one, other] of OCR_RULES) {
    for (const at of occurrences(text, one)) edits.push({ at, length: one.length, replacement: other });
    for (const at of occurrences(text, other)) edits.push({ at, length: other.length, replacement: one });
  }
  if (edits.length === 0) return text;
  const edit = rng.pick(edits);
  return text.slice(0, edit.at) + edit.replacement + text.slice(edit.at + edit.length);
}

/** A nickname for a formal name or the formal name for a nickname; undefined when the name is in neither column. */
export function nicknameVariant(name: string, rng: Random): string | undefined {
  const options = alternativeNames(name);
  return options.length === 0 ? undefined : rng.pick(options);
}

/**
 * `YYYY-MM-DD` with day and month exchanged, or undefined when that is not a different valid date
 * (day above 12, or day equal to month).
 *
 * @example swapDayMonth('1985-03-07'); // '1985-07-03'
 */
export function swapDayMonth(isoDate: string): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  if (match === null) return undefined;
  const [, year, month, day] = match;
  if (Number(day) > 12 || Number(day) < 1 || day === month) return undefined;
  return `${year}-${day}-${month}`;
}

type TextField = 'givenName' | 'middleName' | 'surname' | 'streetAddress' | 'city';
const TEXT_FIELDS: readonly TextField[] = ['givenName', 'givenName', 'givenName', 'surname', 'surname', 'surname', 'streetAddress', 'streetAddress', 'city', 'middleName'];
type BlankableField = 'middleName' | 'dateOfBirth' | 'streetAddress' | 'city' | 'zip';
const BLANKABLE_FIELDS: readonly BlankableField[] = ['middleName', 'dateOfBirth', 'streetAddress', 'city', 'zip'];

function editTextField(person: Person, rng: Random, edit: (text: string, rng: Random) => string): void {
  const candidates = TEXT_FIELDS.filter((field) => person[field].length >= 2);
  if (candidates.length === 0) return;
  const field = rng.pick(candidates);
  person[field] = edit(person[field], rng);
}

/** A corrupted copy of `person`; kinds are applied in a fixed order, value changes before character edits. */
export function corruptPerson(person: Person, rates: Readonly<CorruptionRates>, rng: Random, vocab: Vocabulary): Person {
  const copy = { ...person };
  if (rng.chance(rates.move)) Object.assign(copy, drawAddress(rng, vocab));
  if (copy.sex === 'female' && rng.chance(rates.surnameChange)) {
    let married = vocab.surnames.sample(rng);
    while (married === copy.surname) married = vocab.surnames.sample(rng);
    copy.surname = rng.chance(0.15) ? `${copy.surname}-${married}` : married;
  }
  if (rng.chance(rates.nickname)) copy.givenName = nicknameVariant(copy.givenName, rng) ?? copy.givenName;
  if (rng.chance(rates.dateSwap)) copy.dateOfBirth = swapDayMonth(copy.dateOfBirth) ?? copy.dateOfBirth;
  if (rng.chance(rates.typo)) editTextField(copy, rng, keyboardTypo);
  if (rng.chance(rates.phonetic)) editTextField(copy, rng, phoneticVariant);
  if (rng.chance(rates.ocr)) editTextField(copy, rng, ocrVariant);
  if (rng.chance(rates.missing)) {
    const filled = BLANKABLE_FIELDS.filter((field) => copy[field] !== '');
    if (filled.length > 0) copy[rng.pick(filled)] = '';
  }
  return copy;
}
