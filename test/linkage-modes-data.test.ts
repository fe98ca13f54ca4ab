// The new modes on the benchmark data whose ids carry the truth (skipped without ../shared):
// FEBRL3 deduplication and the three shipped NCVR parties, scored pairwise against the truth.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { scratchDir } from './helpers/scratch.js';
import { encodeFile } from '../src/encode-file.js';
import { dedupFile } from '../src/match/dedup.js';
import { matchParties } from '../src/match/multi-party.js';
import { readSecret, writeNewSecret } from '../src/secret.js';
import { hasShared, sharedPath } from './helpers/shared.js';

const dir = scratchDir('blindlink-modes-data-');
const example = (name: string): string => fileURLToPath(new URL(`../docs/examples/${name}`, import.meta.url));

async function encode(csv: string, schema: string, idColumn: string, trim: boolean, out: string): Promise<string> {
  const secretPath = join(dir, 'secret.key');
  try {
    await writeNewSecret(secretPath);
  } catch {
    // Already written by an earlier call.
  }
  const output = join(dir, out);
  await encodeFile({ schema, secret: await readSecret(secretPath), input: csv, output, workers: 2, idColumn, dialect: { delimiter: ',', trim }, onError: 'fail' });
  return output;
}

/** Pairwise precision and recall of groups CSV lines (`group,...,id`) against a truth key of each id. */
function pairwise(csv: string, key: (id: string) => string, truePairs: number): { precision: number; recall: number } {
  const groups = new Map<string, string[]>();
  for (const line of csv.trimEnd().split('\n').slice(1)) {
    const cells = line.split(',');
    groups.set(cells[0], [...(groups.get(cells[0]) ?? []), key(cells[cells.length - 1])]);
  }
  let predicted = 0;
  let correct = 0;
  for (const members of groups.values()) {
    for (let i = 0; i < members.length; i++) {
      for (let j = i + 1; j < members.length; j++) {
        predicted++;
        if (members[i] === members[j]) correct++;
      }
    }
  }
  return { precision: correct / predicted, recall: correct / truePairs };
}

describe.skipIf(!hasShared('data/febrl3'))('dedup on FEBRL3 (../shared/data/febrl3)', () => {
  it('finds the duplicates: pairwise precision and recall above 0.95 at 0.70, and a count near the 3,000 duplicates', async () => {
    const file = await encode(sharedPath('data/febrl3/dataset3.csv'), example('febrl-schema.json'), 'rec_id', true, 'febrl3.arrow');
    const out = join(dir, 'febrl3-clusters.csv');
    const report = await dedupFile({ file, threshold: 0.7, reveal: 'pairs', cluster: 'greedy', out, workers: 2 });
    // 6,538 true pairs among 5,000 records of 2,000 people (the data's README).
    const quality = pairwise(readFileSync(out, 'utf8'), (id) => id.replace(/-(org|dup-\d+)$/, ''), 6538);
    expect(quality.precision).toBeGreaterThan(0.95);
    expect(quality.recall).toBeGreaterThan(0.95);
    expect(Math.abs(report.count - 3000)).toBeLessThan(150);
  });
});

describe.skipIf(!hasShared('data/ncvr_multiparty_anonlink'))('match with the three NCVR parties (../shared/data/ncvr_multiparty_anonlink)', () => {
  it('groups the people held by two or three parties: pairwise precision and recall above 0.95 at 0.88', async () => {
    const files = [];
    for (const p of [0, 1, 2]) {
      files.push(await encode(sharedPath(`data/ncvr_multiparty_anonlink/ncvr_numrec_5000_modrec_2_ocp_20_myp_${p}_nump_10.csv`), example('ncvr-schema.json'), 'recid', false, `ncvr${p}.arrow`));
    }
    const out = join(dir, 'ncvr-groups.csv');
    const report = await matchParties({ files, threshold: 0.88, reveal: 'pairs', partyPairCounts: true, out, workers: 2, warn: () => undefined });
    // Overlaps 1,224 + 1,193 + 1,172 = 3,589 true pairs; 1,649 people in two or more parties (README).
    const quality = pairwise(readFileSync(out, 'utf8'), (id) => String(Number(id)), 3589);
    expect(quality.precision).toBeGreaterThan(0.95);
    expect(quality.recall).toBeGreaterThan(0.95);
    expect(Math.abs(report.count - 1649)).toBeLessThan(100);
    expect(report.partyPairCounts?.map((p) => p.count).every((c) => Math.abs(c - 1200) < 80)).toBe(true);
  });
});
