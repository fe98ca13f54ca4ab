// Small seeded people (given name, surname, date of birth, city) and typo variants for tests
// that need realistic-looking records without ../shared.
import { popcount } from '../../src/bits.js';
import { seededRandom as mulberry32 } from '../../src/random.js';

const GIVEN = ['james', 'mary', 'robert', 'patricia', 'john', 'jennifer', 'michael', 'linda', 'david', 'elizabeth', 'william', 'barbara', 'richard', 'susan', 'joseph', 'jessica', 'thomas', 'sarah', 'charles', 'karen'];
const SURNAMES = ['smith', 'johnson', 'williams', 'brown', 'jones', 'garcia', 'miller', 'davis', 'rodriguez', 'martinez', 'hernandez', 'lopez', 'gonzalez', 'wilson', 'anderson', 'thomas', 'taylor', 'moore', 'jackson', 'martin', 'lee', 'perez', 'thompson', 'white', 'harris'];
const CITIES = ['springfield', 'austin', 'portland', 'columbus', 'madison', 'salem', 'dover', 'jackson', 'albany', 'denver'];

/** `count` people as [given_name, surname, date_of_birth (ISO), city]. */
export function people(count: number, seed: number): string[][] {
  const random = mulberry32(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  return Array.from({ length: count }, () => {
    const year = 1930 + Math.floor(random() * 75);
    const month = 1 + Math.floor(random() * 12);
    const day = 1 + Math.floor(random() * 28);
    return [pick(GIVEN), pick(SURNAMES), `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`, pick(CITIES)];
  });
}

/** The same person with one typo (a swapped pair of letters) in the given name or surname. */
export function typoVariant(row: readonly string[], index: number): string[] {
  const copy = [...row];
  const field = index % 2;
  const text = copy[field];
  const at = 1 + (index % Math.max(1, text.length - 2));
  copy[field] = text.slice(0, at) + text[at + 1] + text[at] + text.slice(at + 2);
  return copy;
}

/** Dice coefficient of two equal-length filters. */
export function diceOf(a: Uint8Array, b: Uint8Array): number {
  const common = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) common[i] = a[i] & b[i];
  const total = popcount(a) + popcount(b);
  return total === 0 ? 0 : (2 * popcount(common)) / total;
}
