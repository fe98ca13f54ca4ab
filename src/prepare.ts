// Raw cell -> the string to tokenise: missing-value rules, then clkhash's format handling (for
// imported schemas) or blindlink's normalisers. Messages never quote the value: it is plaintext.
import { makeNormaliser } from './normalise/index.js';
import { fullMatcher } from './schema/safe-pattern.js';
import type { ClkhashFormat, FieldPlan } from './types.js';

/** Why a value was rejected, without the value itself. */
export class InvalidValue {
  constructor(readonly reason: string) {}
}

/** Returns the value to tokenise ('' contributes no bits) or an InvalidValue. */
export type Preparer = (raw: string) => string | InvalidValue;

export function makePreparer(field: FieldPlan): Preparer {
  const prepare = field.prepare;
  const missing = field.missing;
  if (prepare.type === 'clkhash') {
    const format = clkhashFormatter(prepare.format);
    // clkhash compares the raw cell with the sentinel exactly and, without replaceWith,
    // tokenises the sentinel itself.
    if (!missing) return format;
    const sentinels = new Set(missing.values);
    const replacement = missing.replaceWith;
    return (raw) => (sentinels.has(raw) ? (replacement ?? raw) : format(raw));
  }
  const normalise = makeNormaliser(prepare.normaliser, prepare.options);
  const missingValues = new Set((missing?.values ?? []).map((value) => value.trim().toLowerCase()));
  const replacement = missing?.replaceWith ?? '';
  const onInvalid = prepare.invalid;
  return (raw) => {
    const trimmed = raw.trim();
    if (trimmed.length === 0 || missingValues.has(trimmed.toLowerCase())) return replacement;
    const value = normalise(trimmed);
    if (value === null) {
      return onInvalid === 'missing' ? replacement : new InvalidValue(`not a valid ${prepare.normaliser} value`);
    }
    return value.length === 0 ? replacement : value;
  };
}

const INTEGER = /^\s*([+-]?)(\d+(?:_\d+)*)\s*$/;

function clkhashFormatter(format: ClkhashFormat): Preparer {
  switch (format.type) {
    case 'string':
      return stringValidator(format);
    case 'integer':
      return (raw) => {
        const match = INTEGER.exec(raw);
        if (!match) return new InvalidValue('not an integer');
        const value = BigInt(match[1] + match[2].replaceAll('_', ''));
        if (format.minimum !== undefined && value < BigInt(format.minimum)) return new InvalidValue(`below the minimum ${format.minimum}`);
        if (format.maximum !== undefined && value > BigInt(format.maximum)) return new InvalidValue(`above the maximum ${format.maximum}`);
        return value.toString();
      };
    case 'enum': {
      const allowed = new Set(format.values);
      return (raw) => (allowed.has(raw) ? raw : new InvalidValue('not one of the enumerated values'));
    }
    case 'date': {
      const parse = strptime(format.format);
      return (raw) => parse(raw) ?? new InvalidValue(`not a date in the format ${format.format}`);
    }
  }
}

function stringValidator(format: Extract<ClkhashFormat, { type: 'string' }>): Preparer {
  // clkhash validates with a full match of the pattern; the schema loader refused patterns RE2 cannot run.
  const matcher = format.pattern === undefined ? null : fullMatcher(format.pattern);
  if (matcher instanceof Error) throw new RangeError(`pattern ${matcher.message}`);
  return (raw) => {
    if (matcher) return matcher(raw) ? raw : new InvalidValue('does not match the pattern');
    const length = [...raw].length;
    if (format.minLength !== undefined && length < format.minLength) return new InvalidValue('shorter than minLength');
    if (format.maxLength !== undefined && length > format.maxLength) return new InvalidValue('longer than maxLength');
    if (format.case === 'lower' && raw !== raw.toLowerCase()) return new InvalidValue('not lower case');
    if (format.case === 'upper' && raw !== raw.toUpperCase()) return new InvalidValue('not upper case');
    return raw;
  };
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * The subset of Python's strptime that date formats in linkage schemas use (%Y %y %m %d %b %B),
 * returning clkhash's canonical YYYYMMDD or null.
 */
export function strptime(format: string): (value: string) => string | null {
  const parts: Array<'Y' | 'y' | 'm' | 'd' | 'b' | 'B'> = [];
  let source = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c !== '%') {
      source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      continue;
    }
    const directive = format[++i];
    if (directive === '%') source += '%';
    else if (directive === 'Y') source += '(\\d{4})';
    else if (directive === 'y') source += '(\\d{2})';
    else if (directive === 'm' || directive === 'd') source += '(\\d{1,2})';
    else if (directive === 'b') source += '([A-Za-z]{3})';
    else if (directive === 'B') source += '([A-Za-z]+)';
    else throw new Error(`unsupported date directive %${directive}`);
    if (directive !== '%') parts.push(directive);
  }
  const regex = new RegExp(`^${source}$`);
  return (value) => {
    const match = regex.exec(value);
    if (!match) return null;
    let year = 1900;
    let month = 1;
    let day = 1;
    parts.forEach((part, index) => {
      const text = match[index + 1];
      if (part === 'Y') year = Number(text);
      else if (part === 'y') year = Number(text) + (Number(text) < 69 ? 2000 : 1900);
      else if (part === 'm') month = Number(text);
      else if (part === 'd') day = Number(text);
      else month = MONTHS.indexOf(text.slice(0, 3).toLowerCase()) + 1;
    });
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
    return `${String(year).padStart(4, '0')}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}`;
  };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
