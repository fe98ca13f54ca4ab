// Seeded synthetic people (realistic name skew from src/synth) and in-process encoding, for the
// attack tests: no files, no workers, so weak and hardened encodings are cheap to make.
import { encodeRows as encodeInMemory } from '../../src/encoder.js';
import { compileSchema } from '../../src/schema/load.js';
import type { Json } from '../../src/schema/json-checks.js';
import { loadVocabulary } from '../../src/synth/vocabulary.js';
import { registryPerson } from '../../src/synth/write.js';
import type { Encodings } from '../../src/attack/types.js';
import type { EncodingPlan } from '../../src/types.js';

export const PERSON_FIELDS = ['given_name', 'surname', 'date_of_birth', 'city'] as const;

/** `count` people as rows of PERSON_FIELDS. */
export async function syntheticRows(count: number, seed: number): Promise<string[][]> {
  const vocab = await loadVocabulary();
  return Array.from({ length: count }, (_, i) => {
    const p = registryPerson(seed, i, vocab);
    return [p.givenName, p.surname, p.dateOfBirth, p.city];
  });
}

/** A native schema over some of PERSON_FIELDS with k bits per token and the given hardening. */
export function personSchema(fields: readonly string[], k: number, hardening?: Json): Json {
  const schema: { [key: string]: Json } = {
    blindlink: 1,
    filter: { bits: 1024 },
    fields: fields.map((name): Json =>
      name === 'date_of_birth'
        ? { name, normalise: 'date', dateOrder: 'YMD', tokens: { type: 'date' }, bitsPerToken: k }
        : { name, normalise: 'name', tokens: { type: 'qgram', q: 2 }, bitsPerToken: k },
    ),
  };
  // No hardening argument means none at all, not the schema default.
  schema.hardening = hardening ?? 'none';
  return schema;
}

/** Encodes rows (in plan field order) with a fixed test secret. */
export function encodeRows(schema: Json, rows: readonly (readonly string[])[]): { plan: EncodingPlan; encodings: Encodings } {
  const plan = compileSchema(schema);
  return { plan, encodings: encodeInMemory(plan, new TextEncoder().encode('attack-test-secret-0123456789abcdef'), rows) };
}

/** Picks columns of PERSON_FIELDS rows. */
export function project(rows: readonly (readonly string[])[], fields: readonly string[]): string[][] {
  const index = fields.map((f) => PERSON_FIELDS.indexOf(f as (typeof PERSON_FIELDS)[number]));
  return rows.map((row) => index.map((i) => row[i]));
}
