// Synthetic taxpayer-like people: names, date of birth and a US address drawn from the Zipf-weighted
// vocabularies; one Random per row, so row i is the same whether generated in order or on its own.
import type { Random } from './random.js';
import { ZIP_BLOCK, type Vocabulary } from './vocabulary.js';

export interface Person {
  givenName: string;
  /** A full middle name, an initial, or blank. */
  middleName: string;
  surname: string;
  /** ISO `YYYY-MM-DD`, the form most agency extracts use. */
  dateOfBirth: string;
  streetAddress: string;
  city: string;
  /** Two-letter USPS state code. */
  state: string;
  /** Five digits. */
  zip: string;
  /** Not written out; nicknames, middle names and marriage name changes depend on it. */
  sex: 'female' | 'male';
}

export type Address = Pick<Person, 'streetAddress' | 'city' | 'state' | 'zip'>;

/** CSV columns of registry.csv and requests.csv, in order, after `record_id`. */
export const PERSON_COLUMNS = [
  'given_name',
  'middle_name',
  'surname',
  'date_of_birth',
  'street_address',
  'city',
  'state',
  'zip',
] as const;

export const FIRST_BIRTH_YEAR = 1930;
export const LAST_BIRTH_YEAR = 2008;

// House numbers by digit count: mostly three or four digits, as in US street addressing.
const HOUSE_DIGITS_CUMULATIVE = [0.08, 0.25, 0.62, 0.95, 1];
const APARTMENT_SHARE = 0.1;
const MIDDLE_FULL_SHARE = 0.45;
const MIDDLE_INITIAL_SHARE = 0.3;

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in `month` (1-12) of `year`, Gregorian leap years. */
export function daysInMonth(year: number, month: number): number {
  if (month !== 2) return MONTH_DAYS[month - 1];
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

export function formatIsoDate(year: number, month: number, day: number): string {
  return `${year}-${month < 10 ? '0' : ''}${month}-${day < 10 ? '0' : ''}${day}`;
}

/** Year uniform in 1930-2008, then month and day: close enough to uniform over days for linkage. */
export function drawDateOfBirth(rng: Random, firstYear = FIRST_BIRTH_YEAR, lastYear = LAST_BIRTH_YEAR): string {
  const year = rng.range(firstYear, lastYear);
  const month = rng.range(1, 12);
  return formatIsoDate(year, month, rng.range(1, daysInMonth(year, month)));
}

export function drawGivenName(rng: Random, vocab: Vocabulary, sex: Person['sex']): string {
  return (sex === 'female' ? vocab.givenFemale : vocab.givenMale).sample(rng);
}

// Faker's own middle-name list holds modern baby names; taxpayers' middle names are mostly
// ordinary given names, so those are drawn from the given-name vocabulary.
function drawMiddleName(rng: Random, vocab: Vocabulary, sex: Person['sex']): string {
  const roll = rng.float();
  if (roll < MIDDLE_FULL_SHARE) return drawGivenName(rng, vocab, sex);
  if (roll < MIDDLE_FULL_SHARE + MIDDLE_INITIAL_SHARE) return drawGivenName(rng, vocab, sex).charAt(0);
  return '';
}

function drawHouseNumber(rng: Random): number {
  const roll = rng.float();
  let digits = 1;
  while (roll >= HOUSE_DIGITS_CUMULATIVE[digits - 1]) digits++;
  const low = digits === 1 ? 1 : 10 ** (digits - 1);
  return rng.range(low, 10 ** digits - 1);
}

function drawStreet(rng: Random, vocab: Vocabulary): string {
  const roll = rng.float();
  if (roll < 0.55) return vocab.streetNames.sample(rng);
  const stem = roll < 0.85 ? vocab.surnames.sample(rng) : drawGivenName(rng, vocab, rng.chance(0.5) ? 'female' : 'male');
  return `${stem} ${vocab.streetSuffixes.sample(rng)}`;
}

/** A street address with a city, and a state and ZIP consistent with that city. */
export function drawAddress(rng: Random, vocab: Vocabulary): Address {
  let streetAddress = `${drawHouseNumber(rng)} ${drawStreet(rng, vocab)}`;
  if (rng.chance(APARTMENT_SHARE)) streetAddress += ` Apt ${rng.range(1, 999)}`;
  const city = vocab.cityInfo[vocab.cities.sampleIndex(rng)];
  const zip = String(city.zipBase + rng.int(ZIP_BLOCK)).padStart(5, '0');
  return { streetAddress, city: city.name, state: city.state, zip };
}

/** One person; the same Random state always gives the same person. */
export function drawPerson(rng: Random, vocab: Vocabulary): Person {
  const sex = rng.chance(0.5) ? 'female' : 'male';
  const givenName = drawGivenName(rng, vocab, sex);
  const middleName = drawMiddleName(rng, vocab, sex);
  const surname = vocab.surnames.sample(rng);
  const dateOfBirth = drawDateOfBirth(rng);
  return { givenName, middleName, surname, dateOfBirth, ...drawAddress(rng, vocab), sex };
}

/** A non-member who shares a surname and a city (state, ZIP) with `base`: a namesake in the same town. */
export function drawNamesake(rng: Random, vocab: Vocabulary, base: Person): Person {
  const other = drawPerson(rng, vocab);
  return { ...other, surname: base.surname, city: base.city, state: base.state, zip: base.zip };
}

/**
 * A non-member relative living with `base`: same surname and address, a different given name and
 * date of birth (a parent, child, sibling or spouse).
 */
export function drawRelative(rng: Random, vocab: Vocabulary, base: Person): Person {
  const sex = rng.chance(0.5) ? 'female' : 'male';
  let givenName = drawGivenName(rng, vocab, sex);
  while (givenName === base.givenName) givenName = drawGivenName(rng, vocab, sex);
  let dateOfBirth = drawDateOfBirth(rng);
  while (dateOfBirth === base.dateOfBirth) dateOfBirth = drawDateOfBirth(rng);
  return {
    givenName,
    middleName: drawMiddleName(rng, vocab, sex),
    surname: base.surname,
    dateOfBirth,
    streetAddress: base.streetAddress,
    city: base.city,
    state: base.state,
    zip: base.zip,
    sex,
  };
}
