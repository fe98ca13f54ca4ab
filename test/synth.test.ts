// `blindlink synth`: reproducible files, the requested overlap, truth links that point at the right
// people, and each corruption doing what its name says.
import { mkdtemp, readdir, readFile, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { synthCommand } from '../src/cli/synth-command.js';
import { UserError } from '../src/errors.js';
import {
  DEFAULT_CORRUPTION,
  keyboardNeighbours,
  keyboardTypo,
  nicknameVariant,
  ocrVariant,
  phoneticVariant,
  scaleRates,
  swapDayMonth,
} from '../src/synth/corrupt.js';
import { alternativeNames, nicknameTable } from '../src/synth/nicknames.js';
import { Random } from '../src/synth/random.js';
import { chooseMembers, synthesize, type SynthOptions } from '../src/synth/write.js';

const scratch = await mkdtemp(join(tmpdir(), 'blindlink-synth-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

const HEADER = 'record_id,given_name,middle_name,surname,date_of_birth,street_address,city,state,zip';

function options(outDir: string, changes: Partial<SynthOptions> = {}): SynthOptions {
  return {
    registry: 3000,
    requests: 800,
    overlap: 0.25,
    seed: 11,
    outDir,
    rates: DEFAULT_CORRUPTION,
    namesakeRate: 0.1,
    relativeRate: 0.1,
    ...changes,
  };
}

// Simple CSV split: synth's values never need quoting (the vocabulary excludes commas and quotes).
async function rows(path: string): Promise<string[][]> {
  const text = await readFile(path, 'utf8');
  return text.trimEnd().split('\n').map((line) => line.split(','));
}

async function files(dir: string): Promise<Record<string, string>> {
  const names = ['registry.csv', 'requests.csv', 'truth.csv'];
  return Object.fromEntries(await Promise.all(names.map(async (name) => [name, await readFile(join(dir, name), 'utf8')] as const)));
}

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions. */
function osaDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

describe('synthesize', () => {
  it('writes byte-identical files for the same seed and different ones for another seed', async () => {
    await synthesize(options(join(scratch, 'a')));
    await synthesize(options(join(scratch, 'b')));
    await synthesize(options(join(scratch, 'c'), { seed: 12 }));
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((dir) => files(join(scratch, dir))));
    expect(b).toEqual(a);
    expect(c['registry.csv']).not.toEqual(a['registry.csv']);
    expect(c['requests.csv']).not.toEqual(a['requests.csv']);
    expect(c['truth.csv']).not.toEqual(a['truth.csv']);
  });

  it('honours the overlap exactly and links each member request to a distinct registry row', async () => {
    const dir = join(scratch, 'overlap');
    const summary = await synthesize(options(dir, { requests: 777, overlap: 0.037 }));
    expect(summary.members).toBe(29); // round(0.037 * 777) = round(28.749)
    const truth = await rows(join(dir, 'truth.csv'));
    expect(truth[0]).toEqual(['request_row', 'registry_row']);
    const links = truth.slice(1).map(([request, registry]) => [Number(request), Number(registry)]);
    expect(links).toHaveLength(29);
    expect(new Set(links.map(([request]) => request)).size).toBe(29);
    expect(new Set(links.map(([, registry]) => registry)).size).toBe(29);
    for (const [request, registry] of links) {
      expect(request).toBeLessThan(777);
      expect(registry).toBeLessThan(3000);
    }
  });

  it('writes the documented columns, unique random-looking request ids and skewed surnames', async () => {
    const dir = join(scratch, 'a');
    const registry = await rows(join(dir, 'registry.csv'));
    const requests = await rows(join(dir, 'requests.csv'));
    expect(registry[0].join(',')).toBe(HEADER);
    expect(requests[0].join(',')).toBe(HEADER);
    expect(registry).toHaveLength(3001);
    expect(requests).toHaveLength(801);
    for (const row of [...registry.slice(1), ...requests.slice(1)]) expect(row).toHaveLength(9);
    const ids = requests.slice(1).map((row) => row[0]);
    expect(new Set(ids).size).toBe(800);
    for (const id of ids) expect(id).toMatch(/^Q\d{7}$/);
    // Consecutive rows would have consecutive ids if ids counted rows.
    expect(ids.filter((id, i) => i > 0 && Number(id.slice(1)) === Number(ids[i - 1].slice(1)) + 1).length).toBeLessThan(10);
    const smiths = registry.filter((row) => row[3] === 'Smith').length;
    const surnames = new Map<string, number>();
    for (const row of registry.slice(1)) surnames.set(row[3], (surnames.get(row[3]) ?? 0) + 1);
    const counts = [...surnames.values()].sort((x, y) => x - y);
    expect(smiths).toBeGreaterThan(10 * counts[Math.floor(counts.length / 2)]);
    for (const row of registry.slice(1)) {
      expect(row[4]).toMatch(/^(19[3-9]\d|200[0-8])-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/);
      expect(row[7]).toMatch(/^[A-Z]{2}$/);
      expect(row[8]).toMatch(/^\d{5}$/);
    }
  });

  it('keeps most member requests recognisable at default rates and exact copies at scale 0', async () => {
    const check = async (dir: string): Promise<Array<[string[], string[]]>> => {
      const registry = await rows(join(dir, 'registry.csv'));
      const requests = await rows(join(dir, 'requests.csv'));
      const truth = (await rows(join(dir, 'truth.csv'))).slice(1);
      return truth.map(([request, registry_]) => [requests[Number(request) + 1], registry[Number(registry_) + 1]]);
    };
    const noisy = await check(join(scratch, 'a'));
    const agreeing = noisy.filter(([request, registry]) => request[3] === registry[3] || request[4] === registry[4]);
    expect(agreeing.length / noisy.length).toBeGreaterThan(0.9);
    expect(noisy.some(([request, registry]) => request.slice(1).join() !== registry.slice(1).join())).toBe(true);

    const dir = join(scratch, 'clean');
    await synthesize(options(dir, { rates: scaleRates(DEFAULT_CORRUPTION, 0) }));
    for (const [request, registry] of await check(dir)) expect(request.slice(1)).toEqual(registry.slice(1));
  });

  it('includes close non-members: relatives at a registry address with another name and birth date', async () => {
    const dir = join(scratch, 'close');
    await synthesize(options(dir, { rates: scaleRates(DEFAULT_CORRUPTION, 0), overlap: 0, namesakeRate: 0, relativeRate: 1 }));
    const registry = await rows(join(dir, 'registry.csv'));
    const addresses = new Map(registry.slice(1).map((row) => [[row[3], row[5], row[6], row[8]].join('|'), row]));
    for (const request of (await rows(join(dir, 'requests.csv'))).slice(1)) {
      const base = addresses.get([request[3], request[5], request[6], request[8]].join('|'));
      expect(base).toBeDefined();
      expect(request[1]).not.toBe(base?.[1]);
      expect(request[4]).not.toBe(base?.[4]);
    }
  });

  it('rejects an overlap larger than the registry and leaves no file behind on failure', async () => {
    await expect(synthesize(options(join(scratch, 'too-many'), { registry: 10, requests: 100, overlap: 0.5 }))).rejects.toThrow(UserError);
    const dir = join(scratch, 'blocked');
    await mkdir(join(dir, 'truth.csv'), { recursive: true });
    await expect(synthesize(options(dir))).rejects.toThrow(/truth\.csv: refusing to write output: it exists and is a directory/);
    expect(await readdir(dir)).toEqual(['truth.csv']);
  });
});

describe('chooseMembers', () => {
  it('picks the requested number of distinct indices in ascending order', () => {
    const chosen = chooseMembers(1000, 137, Random.forKey(1, 4, 0));
    expect(chosen).toHaveLength(137);
    for (let i = 1; i < chosen.length; i++) expect(chosen[i]).toBeGreaterThan(chosen[i - 1]);
    expect(chosen[chosen.length - 1]).toBeLessThan(1000);
    expect(chooseMembers(5, 5, Random.forKey(1, 4, 0))).toEqual(Uint32Array.of(0, 1, 2, 3, 4));
  });
});

describe('corruptions', () => {
  const words = ['Johnson', 'Elizabeth', 'Nguyen', 'Al', '1234 Main Street', 'Martinez-Lopez', 'Oo'];

  it('keyboard typos are one insert, delete, neighbour substitution or transposition away', () => {
    for (const word of words) {
      for (let seed = 0; seed < 200; seed++) {
        const typo = keyboardTypo(word, Random.forKey(seed, 9, word.length));
        expect(osaDistance(word, typo), `${word} -> ${typo}`).toBe(1);
        expect(typo.charAt(0).toUpperCase() === typo.charAt(0)).toBe(word.charAt(0).toUpperCase() === word.charAt(0));
      }
    }
    expect(keyboardNeighbours('g').split('').sort().join('')).toBe('bfhtvy');
    expect(keyboardNeighbours('Q')).toBe('WA');
  });

  it('nicknames work in both directions', () => {
    const rng = Random.forKey(3, 9, 0);
    expect(['Bill', 'Will', 'Billy', 'Willie']).toContain(nicknameVariant('William', rng));
    expect(nicknameVariant('Bill', rng)).toBe('William');
    expect(nicknameVariant('BOB', rng)).toBe('Robert');
    expect(new Set(Array.from({ length: 50 }, (_, i) => nicknameVariant('Pat', Random.forKey(i, 9, 1))))).toEqual(new Set(['Patrick', 'Patricia']));
    expect(nicknameVariant('Zebulon', rng)).toBeUndefined();
    expect(alternativeNames('__proto__')).toEqual([]);
    const table = nicknameTable();
    expect(Object.keys(table).length).toBeGreaterThanOrEqual(60);
    for (const [formal, nicknames] of Object.entries(table)) {
      for (const nickname of nicknames) {
        expect(alternativeNames(formal)).toContain(nickname);
        expect(alternativeNames(nickname)).toContain(formal);
      }
    }
  });

  it('swaps day and month only when the result is a different valid date', () => {
    expect(swapDayMonth('1985-03-07')).toBe('1985-07-03');
    expect(swapDayMonth('1985-11-12')).toBe('1985-12-11');
    expect(swapDayMonth('1985-03-13')).toBeUndefined();
    expect(swapDayMonth('1985-05-05')).toBeUndefined();
    expect(swapDayMonth('')).toBeUndefined();
  });

  it('phonetic variants use sound-alike spellings and keep capitals', () => {
    const variants = (word: string): Set<string> => new Set(Array.from({ length: 300 }, (_, i) => phoneticVariant(word, Random.forKey(i, 9, 2))));
    expect(variants('Philip')).toContain('Filip');
    expect(variants('Philip')).toContain('Phillip');
    expect(variants('Marie')).toContain('Mary');
    expect(variants('Carl')).toContain('Karl');
    expect(variants('Jackson')).toContain('Jakson');
    for (const variant of variants('Philip')) expect(variant.charAt(0)).toMatch(/[A-Z]/);
    expect(phoneticVariant('', Random.forKey(1, 9, 2))).toBe('');
  });

  it('OCR variants confuse look-alike characters', () => {
    const variants = new Set(Array.from({ length: 300 }, (_, i) => ocrVariant('150 Burns Road', Random.forKey(i, 9, 3))));
    expect(variants).toContain('l50 Burns Road');
    expect(variants).toContain('1S0 Burns Road');
    expect(variants).toContain('15O Burns Road');
    expect(variants).toContain('150 Bums Road');
    expect(ocrVariant('Xyz', Random.forKey(1, 9, 3))).toBe('Xyz');
  });
});

describe('synth command', () => {
  it('parses its options and prints a JSON summary', async () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const dir = join(scratch, 'cli');
      await synthCommand().parseAsync(['--registry', '500', '--requests', '100', '--overlap', '0.5', '--typo-rate', '1', '--out-dir', dir, '--json'], { from: 'user' });
      const summary = JSON.parse(written.join('')) as { members: number; registryRows: number };
      expect(summary).toMatchObject({ members: 50, registryRows: 500 });
    } finally {
      spy.mockRestore();
    }
  });

  it('rejects bad numbers as usage errors', async () => {
    for (const args of [['--overlap', '1.5'], ['--registry', '0'], ['--seed', '-1'], ['--typo-rate', 'x'], ['--corruption-scale', '']]) {
      const command = synthCommand()
        .exitOverride()
        .configureOutput({ writeErr: () => undefined });
      await expect(command.parseAsync(['--registry', '10', '--requests', '10', '--out-dir', scratch, ...args], { from: 'user' })).rejects.toMatchObject({
        code: 'commander.invalidArgument',
      });
    }
  });
});
