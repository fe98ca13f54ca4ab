// Runs both attacks on one encoded file and scores them: files are read and split here so that
// the attacks get encodings and reference values, and only the scorer gets identities.
import { UserError } from '../errors.js';
import { readEncodedFile } from '../io/encoded-file.js';
import { startProgress } from '../progress.js';
import { loadSchema } from '../schema/load.js';
import { graphMatchingAttack } from './graph-matching.js';
import { patternMiningAttack } from './pattern-mining.js';
import { readReference } from './reference.js';
import { makeScorer, type AttackScore, type Truth } from './score.js';
import type { AttackInput, AttackOutcome } from './types.js';

export const ATTACKS: ReadonlyArray<{ name: string; run: (input: AttackInput) => AttackOutcome }> = [
  { name: 'pattern-mining', run: (input) => patternMiningAttack(input) },
  { name: 'graph-matching', run: (input) => graphMatchingAttack(input) },
];

/**
 * Runs every attack on in-memory inputs and scores each.
 *
 * @example const scores = attackSuite({ plan, encodings, reference: rows, seed: 1 }, { encodedIds, referenceIds });
 */
export function attackSuite(input: AttackInput, truth: Truth, onDone: (done: number) => void = () => undefined): AttackScore[] {
  const score = makeScorer(input, truth);
  return ATTACKS.map((attack, i) => {
    const result = score(attack.run(input));
    onDone(i + 1);
    return result;
  });
}

export interface AttackFiles {
  encodedPath: string;
  referencePath: string;
  schemaPath: string;
  truthColumn: string;
  seed: number;
}

export async function attackFiles(options: AttackFiles): Promise<AttackScore[]> {
  const plan = await loadSchema(options.schemaPath);
  const file = await readEncodedFile(options.encodedPath);
  if (file.ids === null) {
    throw new UserError(`${options.encodedPath}: carries no ids; encode with --id-column ${options.truthColumn} so the attack can score itself`);
  }
  if (file.metadata && file.metadata.schemaFingerprint !== plan.fingerprint) {
    throw new UserError(`${options.encodedPath}: was encoded with a different schema than ${options.schemaPath}`);
  }
  if (file.filterBits !== plan.filterBits) {
    throw new UserError(`${options.encodedPath}: has ${file.filterBits}-bit filters, ${options.schemaPath} makes ${plan.filterBits}-bit filters`);
  }
  if (file.count < 2) throw new UserError(`${options.encodedPath}: needs at least two encoded records`);
  const reference = await readReference(options.referencePath, plan, options.truthColumn);
  const input: AttackInput = {
    plan,
    encodings: { filterBits: file.filterBits, count: file.count, clks: file.clks, popcounts: file.popcounts },
    reference: reference.rows,
    seed: options.seed,
  };
  const progress = startProgress('attacks', 'attacks');
  try {
    return attackSuite(input, { encodedIds: file.ids, referenceIds: reference.identities }, (done) => progress.update(done, done / ATTACKS.length));
  } finally {
    progress.finish();
  }
}
