// Vocabularies for synthetic US people: faker's English name and place lists, re-ranked so that
// well-known common names come first, and sampled with Zipf weights so common names are common.
import type { LocaleDefinition } from '@faker-js/faker';
import { hashString, type Random } from './random.js';

/**
 * Zipf exponents (weight of rank r is r^-s). Faker's lists are small (about 1,100 surnames,
 * 1,400 to 1,600 given names per sex, 930 cities), so exponents below the real-world ~1 keep the
 * most common name near the real share: with these values Smith is about 2.5 % of people (US
 * census 2010: 0.8 %) and James about 4 % of men, while the tail still holds most people.
 */
export const ZIPF_EXPONENT = {
  surname: 0.6,
  given: 0.7,
  city: 0.8,
  street: 0.8,
  streetSuffix: 1.2,
} as const;

// Heads of the rankings, most common first (US census 2010 surnames, SSA given names of the 1950s
// to 1990s, Census city populations): general knowledge, added where faker lacks them.
const COMMON_SURNAMES = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez',
  'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin',
  'Lee', 'Perez', 'Thompson', 'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson',
  'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill', 'Flores',
];
const COMMON_MALE = [
  'James', 'Robert', 'John', 'Michael', 'David', 'William', 'Richard', 'Joseph', 'Thomas', 'Charles',
  'Christopher', 'Daniel', 'Matthew', 'Anthony', 'Mark', 'Donald', 'Steven', 'Paul', 'Andrew', 'Joshua',
];
const COMMON_FEMALE = [
  'Mary', 'Patricia', 'Jennifer', 'Linda', 'Elizabeth', 'Barbara', 'Susan', 'Jessica', 'Sarah', 'Karen',
  'Lisa', 'Nancy', 'Betty', 'Margaret', 'Sandra', 'Ashley', 'Kimberly', 'Emily', 'Donna', 'Michelle',
];
// Large cities keep their real state; faker's other cities get a fixed pseudo-random one.
const COMMON_CITIES: ReadonlyArray<readonly [city: string, state: string]> = [
  ['New York', 'NY'], ['Los Angeles', 'CA'], ['Chicago', 'IL'], ['Houston', 'TX'], ['Phoenix', 'AZ'],
  ['Philadelphia', 'PA'], ['San Antonio', 'TX'], ['San Diego', 'CA'], ['Dallas', 'TX'], ['Jacksonville', 'FL'],
  ['Austin', 'TX'], ['Fort Worth', 'TX'], ['San Jose', 'CA'], ['Columbus', 'OH'], ['Charlotte', 'NC'],
  ['Indianapolis', 'IN'], ['San Francisco', 'CA'], ['Seattle', 'WA'], ['Denver', 'CO'], ['Oklahoma City', 'OK'],
  ['Nashville', 'TN'], ['Boston', 'MA'], ['El Paso', 'TX'], ['Portland', 'OR'], ['Las Vegas', 'NV'],
  ['Detroit', 'MI'], ['Memphis', 'TN'], ['Louisville', 'KY'], ['Baltimore', 'MD'], ['Milwaukee', 'WI'],
  ['Albuquerque', 'NM'], ['Tucson', 'AZ'], ['Fresno', 'CA'], ['Sacramento', 'CA'], ['Kansas City', 'MO'],
  ['Atlanta', 'GA'], ['Omaha', 'NE'], ['Raleigh', 'NC'], ['Miami', 'FL'], ['Minneapolis', 'MN'],
];
const COMMON_STREET_SUFFIXES = ['Street', 'Avenue', 'Road', 'Drive', 'Lane', 'Court', 'Way', 'Place', 'Circle', 'Trail'];

/** Strings with cumulative Zipf weights, sampled by binary search. */
export class WeightedList {
  readonly items: readonly string[];
  private readonly cumulative: Float64Array;

  constructor(items: readonly string[], exponent: number) {
    this.items = items;
    this.cumulative = new Float64Array(items.length);
    let total = 0;
    for (let rank = 0; rank < items.length; rank++) {
      total += (rank + 1) ** -exponent;
      this.cumulative[rank] = total;
    }
  }

  /** Index of a weighted draw. */
  sampleIndex(rng: Random): number {
    const target = rng.float() * this.cumulative[this.cumulative.length - 1];
    let low = 0;
    let high = this.cumulative.length - 1;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.cumulative[mid] > target) high = mid;
      else low = mid + 1;
    }
    return low;
  }

  sample(rng: Random): string {
    return this.items[this.sampleIndex(rng)];
  }

  /** Share of draws that land on rank `index`. */
  share(index: number): number {
    const previous = index === 0 ? 0 : this.cumulative[index - 1];
    return (this.cumulative[index] - previous) / this.cumulative[this.cumulative.length - 1];
  }
}

export interface City {
  name: string;
  state: string;
  /** First ZIP code of the city's block of ZIP_BLOCK codes, inside its state's range. */
  zipBase: number;
}

export interface Vocabulary {
  givenFemale: WeightedList;
  givenMale: WeightedList;
  surnames: WeightedList;
  streetNames: WeightedList;
  streetSuffixes: WeightedList;
  cities: WeightedList;
  /** Same order as `cities.items`. */
  cityInfo: readonly City[];
}

/** Number of consecutive ZIP codes each city uses. */
export const ZIP_BLOCK = 20;

/** Head names first (adding any faker lacks), then the rest of the pool in a fixed hash order. */
function rank(head: readonly string[], pool: readonly string[]): string[] {
  const seen = new Set(head);
  const rest = [...new Set(pool)].filter((name) => !seen.has(name) && isPlainValue(name));
  rest.sort((x, y) => hashString(x) - hashString(y) || (x < y ? -1 : 1));
  return [...head, ...rest];
}

// Commas, quotes and slashes would only make CSV quoting and address parsing noisier than the
// corruption we add on purpose.
function isPlainValue(value: string): boolean {
  return !/[",/()\r\n]/.test(value);
}

// Faker gives New York a single ZIP code and Maryland ten, Nebraska and Oklahoma a sliver of theirs;
// these are the states' USPS ranges.
const ZIP_RANGE_FIXES: ReadonlyArray<readonly [state: string, min: number, max: number]> = [
  ['NY', 10001, 14925],
  ['MD', 20601, 21930],
  ['NE', 68001, 69367],
  ['OK', 73001, 74966],
];

/** ZIP ranges per state from faker's en_US templates such as `{{number.int({"min": 35004,"max": 36925})}}`. */
function zipRanges(us: LocaleDefinition): Map<string, Array<readonly [number, number]>> {
  const ranges = new Map<string, Array<readonly [number, number]>>();
  for (const [state, min, max] of ZIP_RANGE_FIXES) ranges.set(state, [[min, max]]);
  for (const [state, templates] of Object.entries(us.location?.postcode_by_state ?? {})) {
    for (const template of Array.isArray(templates) ? templates : [templates]) {
      const match = /"min":\s*(\d+),\s*"max":\s*(\d+)/.exec(template);
      if (match === null || ZIP_RANGE_FIXES.some(([fixed]) => fixed === state)) continue;
      const list = ranges.get(state) ?? [];
      list.push([Number(match[1]), Number(match[2])]);
      ranges.set(state, list);
    }
  }
  return ranges;
}

function placeCities(names: readonly string[], us: LocaleDefinition): City[] {
  const ranges = zipRanges(us);
  const headStates = new Map(COMMON_CITIES);
  const states = (us.location?.state_abbr ?? []).filter((state) => ranges.has(state));
  return names.map((name) => {
    const hash = hashString(name);
    const state = headStates.get(name) ?? states[hash % states.length];
    const stateRanges = ranges.get(state) ?? [[10001, 99999]];
    const [min, max] = stateRanges[(hash >>> 8) % stateRanges.length];
    const span = Math.max(1, max - min + 2 - ZIP_BLOCK);
    return { name, state, zipBase: min + (hashString(`${name}#zip`) % span) };
  });
}

let cached: Promise<Vocabulary> | undefined;

/**
 * Builds the vocabulary once per process; it depends only on the pinned faker version, never on
 * the seed. Faker is imported here, per locale, so other commands never pay for loading it.
 */
export function loadVocabulary(): Promise<Vocabulary> {
  cached ??= build();
  return cached;
}

async function build(): Promise<Vocabulary> {
  // The en_US instance's definitions are en_US merged over en (names, cities, suffixes).
  const us = (await import('@faker-js/faker/locale/en_US')).faker.rawDefinitions;
  const spanish = (await import('@faker-js/faker/locale/es')).faker.rawDefinitions;
  const person = us.person ?? {};
  const location = us.location ?? {};
  const cityNames = rank(
    COMMON_CITIES.map(([city]) => city),
    location.city_name ?? [],
  );
  return {
    givenFemale: new WeightedList(rank(COMMON_FEMALE, person.first_name?.female ?? []), ZIPF_EXPONENT.given),
    givenMale: new WeightedList(rank(COMMON_MALE, person.first_name?.male ?? []), ZIPF_EXPONENT.given),
    // Spanish surnames beside the English ones: Garcia, Rodriguez and Martinez are US top-ten names.
    surnames: new WeightedList(
      rank(COMMON_SURNAMES, [...(person.last_name?.generic ?? []), ...(spanish.person?.last_name?.generic ?? [])]),
      ZIPF_EXPONENT.surname,
    ),
    streetNames: new WeightedList(rank([], location.street_name ?? []), ZIPF_EXPONENT.street),
    streetSuffixes: new WeightedList(rank(COMMON_STREET_SUFFIXES, location.street_suffix ?? []), ZIPF_EXPONENT.streetSuffix),
    cities: new WeightedList(cityNames, ZIPF_EXPONENT.city),
    cityInfo: placeCities(cityNames, us),
  };
}
