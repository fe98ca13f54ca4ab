// Seeded pseudo-random numbers for `blindlink synth`: sfc32 (Chris Doty-Humphrey's small fast
// counter generator), keyed by (seed, stream, index) so any row can be regenerated on its own.

/** Streams keep the draws for registry rows, request rows and sampling independent of each other. */
export const STREAM = {
  registry: 1,
  outsider: 2,
  corrupt: 3,
  sampling: 4,
  close: 5,
} as const;

// murmur3's 32-bit finaliser: a bijection, so distinct inputs give distinct state words.
function fmix32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** FNV-1a hash of a string; fixes vocabulary order and city placement independently of the seed. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return fmix32(h);
}

/**
 * @example const rng = Random.forKey(42, STREAM.registry, 0); rng.int(10); // 0..9, same every run
 */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(a: number, b: number, c: number) {
    this.a = a | 0;
    this.b = b | 0;
    this.c = c | 0;
    this.d = 1;
    // The generator's author recommends 12 or more discarded outputs after seeding; 15 also spreads
    // one-word differences between neighbouring row keys across the whole state.
    for (let i = 0; i < 15; i++) this.next();
  }

  /** A generator for one (seed, stream, index) triple; each word is a bijection of one part, so triples never collide. */
  static forKey(seed: number, stream: number, index: number): Random {
    return new Random(fmix32(seed ^ 0x3c6ef372), fmix32(stream ^ 0xa54ff53a), fmix32(index ^ 0x510e527f));
  }

  /** Next 32-bit unsigned integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  float(): number {
    return this.next() / 4294967296;
  }

  /** Uniform integer in [0, n); for n up to 10^8 no value is more than 3 % likelier than another. */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(probability: number): boolean {
    return this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}
