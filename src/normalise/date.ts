// Date parsing to a canonical YYYYMMDD string. Accepts the numeric, month-name and ISO timestamp
// spellings seen in custodian exports; rejects impossible calendar dates rather than guessing.

/** Field order of all-numeric dates whose year is not written first with four digits. */
export type DateOrder = 'MDY' | 'DMY' | 'YMD';

export interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

const COMPACT = /^(\d{4})(\d{2})(\d{2})$/;
// Three numeric parts sharing one separator; a time of day may follow a four-digit leading year.
const NUMERIC =
  /^(\d{1,4})([-/.])(\d{1,2})\2(\d{1,4})((?:t|\s+)\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:z|[+-]\d{2}(?::?\d{2})?)?)?$/;
const NON_ASCII = /[^\x00-\x7f]/;

const MONTHS: ReadonlyMap<string, number> = new Map([
  ['jan', 1], ['january', 1], ['feb', 2], ['february', 2], ['mar', 3], ['march', 3],
  ['apr', 4], ['april', 4], ['may', 5], ['jun', 6], ['june', 6], ['jul', 7], ['july', 7],
  ['aug', 8], ['august', 8], ['sep', 9], ['sept', 9], ['september', 9], ['oct', 10],
  ['october', 10], ['nov', 11], ['november', 11], ['dec', 12], ['december', 12],
]);
const ORDINAL_SUFFIXES: ReadonlySet<string> = new Set(['st', 'nd', 'rd', 'th']);
// Words that add nothing: weekday names ("Saturday, January 5, 1980") and "5th of January".
const FILLER_WORDS: ReadonlySet<string> = new Set([
  'of', 'mon', 'monday', 'tue', 'tues', 'tuesday', 'wed', 'wednesday', 'thu', 'thur', 'thurs',
  'thursday', 'fri', 'friday', 'sat', 'saturday', 'sun', 'sunday',
]);

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Expands a written year: two digits pivot into 19xx/20xx, anything else is taken literally. */
function fullYear(text: string, pivotYear: number): number {
  const n = Number(text);
  if (text.length !== 2) return n;
  return n <= pivotYear ? 2000 + n : 1900 + n;
}

function checked(year: number, month: number, day: number): CalendarDate | null {
  if (year < 1000 || year > 9999 || month < 1 || month > 12 || day < 1) return null;
  const limit = month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month];
  return day <= limit ? { year, month, day } : null;
}

function parseNumeric(a: string, b: string, c: string, hasTime: boolean, order: DateOrder, pivot: number): CalendarDate | null {
  if (a.length === 4) return c.length <= 2 ? checked(Number(a), Number(b), Number(c)) : null;
  if (hasTime || a.length > 2) return null;
  if (c.length === 4) {
    // The year is last, so only MDY vs DMY is in question; a YMD schema falls back to US order.
    return order === 'DMY' ? checked(Number(c), Number(b), Number(a)) : checked(Number(c), Number(a), Number(b));
  }
  if (order === 'YMD') return a.length === 2 ? checked(fullYear(a, pivot), Number(b), Number(c)) : null;
  if (c.length !== 2) return null;
  const year = fullYear(c, pivot);
  return order === 'DMY' ? checked(year, Number(b), Number(a)) : checked(year, Number(a), Number(b));
}

interface NumberToken {
  text: string;
  ordinal: boolean;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isLetter(c: number): boolean {
  return c >= 0x61 && c <= 0x7a;
}

/** Separators allowed between the words of a month-name date. */
function isSeparator(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x2c || c === 0x2e || c === 0x2d || c === 0x2f;
}

/** Dates with a month name: exactly one month, a day and a year, in any order. */
function parseWithMonthName(s: string, order: DateOrder, pivot: number): CalendarDate | null {
  const numbers: NumberToken[] = [];
  let month = 0;
  let numbersBeforeMonth = 0;
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    const start = i;
    if (isDigit(c)) {
      while (i < s.length && isDigit(s.charCodeAt(i))) i++;
      numbers.push({ text: s.slice(start, i), ordinal: false });
    } else if (isLetter(c)) {
      while (i < s.length && isLetter(s.charCodeAt(i))) i++;
      const word = s.slice(start, i);
      const monthNumber = MONTHS.get(word);
      const attachedTo = start > 0 && isDigit(s.charCodeAt(start - 1)) ? numbers[numbers.length - 1] : undefined;
      if (attachedTo !== undefined && ORDINAL_SUFFIXES.has(word)) {
        attachedTo.ordinal = true;
      } else if (monthNumber !== undefined && month === 0) {
        month = monthNumber;
        numbersBeforeMonth = numbers.length;
      } else if (!FILLER_WORDS.has(word)) {
        return null;
      }
    } else if (isSeparator(c)) {
      i++;
    } else {
      return null;
    }
  }
  if (month === 0 || numbers.length !== 2) return null;

  const [first, second] = numbers;
  let yearToken: NumberToken;
  let dayToken: NumberToken;
  if (first.text.length > 2 && second.text.length <= 2) [yearToken, dayToken] = [first, second];
  else if (second.text.length > 2 && first.text.length <= 2) [yearToken, dayToken] = [second, first];
  else if (first.text.length <= 2 && second.text.length <= 2) {
    // Both short: the year comes last ("Jan 5 80", "05-JAN-80") unless a YMD schema puts it
    // first around the month ("80-JAN-05").
    const yearFirst = order === 'YMD' && numbersBeforeMonth === 1;
    [yearToken, dayToken] = yearFirst ? [first, second] : [second, first];
  } else return null;

  if (yearToken.ordinal || (yearToken.text.length !== 2 && yearToken.text.length !== 4)) return null;
  return checked(fullYear(yearToken.text, pivot), month, Number(dayToken.text));
}

/**
 * Parses a date written as YYYYMMDD, YYYY-MM-DD (also / or .), an ISO timestamp (the time is
 * ignored), M/D/Y or D/M/Y per `order` (also - or .), two-digit years (yy <= pivotYear is 20yy,
 * otherwise 19yy), or with an English month name or abbreviation. Returns null when the text is
 * not a date or names an impossible one (Feb 30, 1900-02-29, year outside 1000..9999).
 */
export function parseDate(value: string, order: DateOrder = 'MDY', pivotYear = 30): CalendarDate | null {
  if (!Number.isInteger(pivotYear) || pivotYear < 0 || pivotYear > 99) {
    throw new RangeError(`pivotYear must be an integer from 0 to 99, got ${pivotYear}`);
  }
  // NFKC turns full-width digits and no-break spaces into their ASCII forms.
  const s = (NON_ASCII.test(value) ? value.normalize('NFKC') : value).trim().toLowerCase();

  const compact = COMPACT.exec(s);
  if (compact !== null) return checked(Number(compact[1]), Number(compact[2]), Number(compact[3]));
  const numeric = NUMERIC.exec(s);
  if (numeric !== null) return parseNumeric(numeric[1], numeric[3], numeric[4], numeric[5] !== undefined, order, pivotYear);
  return parseWithMonthName(s, order, pivotYear);
}

/** Canonical YYYYMMDD form, zero-padded. */
export function formatDate(d: CalendarDate): string {
  return String(d.year).padStart(4, '0') + String(d.month).padStart(2, '0') + String(d.day).padStart(2, '0');
}

/** parseDate then formatDate; null for text that is not a possible date. */
export function normaliseDate(value: string, order: DateOrder = 'MDY', pivotYear = 30): string | null {
  const parsed = parseDate(value, order, pivotYear);
  return parsed === null ? null : formatDate(parsed);
}
