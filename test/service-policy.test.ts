// The policy: validation with JSON paths; a request refused with every reason it fails (and the
// refusal recorded); the epsilon ledger refusing overspend across projects; and the differencing
// attack (a list, then the same list plus one person) refused for exact counts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePolicy, loadPolicy } from '../src/service/policy.js';
import type { Json } from '../src/schema/json-checks.js';
import type { ServiceError } from '../src/service/client.js';
import { scratchDir } from './helpers/run-cli.js';
import { createProject, filterPool, FULL_METADATA, openPolicy, range, startTestServer, writeList, type TestServer } from './helpers/service.js';

describe('policy validation', () => {
  const base = openPolicy() as { [key: string]: Json };
  const cases: Array<[Json, string]> = [
    [{}, '$.blindlinkPolicy: must be an integer between 1 and 1'],
    [{ ...base, match: undefined as unknown as Json }, '$.match: must be an object'],
    [{ ...base, match: { threshold: 0 } }, '$.match.threshold: must be greater than 0'],
    [{ ...base, release: { modes: { recipient: ['count'] } } }, '$.release.maxOverlapWithEarlierLists: is required when an exact release mode is allowed (count)'],
    [{ ...base, release: { modes: { recipient: ['noisy-count'] } }, privacy: undefined as unknown as Json }, '$.privacy: is required when a noisy release mode is allowed (epsilonPerRelease and lifetimeBudget)'],
    [{ ...base, release: { modes: { custodian: ['count'] }, maxOverlapWithEarlierLists: 0 } }, '$.release.modes.custodian: unknown key (allowed: custodian-a, custodian-b, recipient, auditor)'],
    [{ ...base, release: { modes: { recipient: [] } } }, '$.release.modes.recipient: must allow at least one release mode'],
    [{ ...base, release: { modes: { recipient: ['overlap'] } } }, '$.release.modes.recipient[0]: must be one of "count", "noisy-count", "histogram", "pairs"'],
    [{ ...base, privacy: { epsilonPerRelease: 1, lifetimeBudget: 0.5 } }, '$.privacy.lifetimeBudget: must be at least epsilonPerRelease'],
    [{ ...base, privacy: { epsilonPerRelease: 0.0000001, lifetimeBudget: 1 } }, '$.privacy.epsilonPerRelease: must be a multiple of 0.000001'],
    [{ ...base, request: { requiredMetadata: ['reason'] } }, '$.request.requiredMetadata[0]: must be one of "purpose", "statutoryBasis", "requestingOfficial"'],
  ];
  for (const [policy, message] of cases) {
    it(message, () => {
      expect(() => compilePolicy(JSON.parse(JSON.stringify(policy)) as Json)).toThrow(message);
    });
  }

  it('loads the example policy, and names the file of one that is not JSON', async () => {
    const { policy } = await loadPolicy(new URL('../docs/examples/service-policy.json', import.meta.url).pathname);
    expect(policy.release.modes.recipient).toEqual(['noisy-count']);
    expect(policy.request.requiredMetadata).toEqual(['purpose', 'statutoryBasis', 'requestingOfficial']);
    const bad = join(scratchDir(), 'policy.json');
    writeFileSync(bad, '{"blindlinkPolicy": 1,');
    await expect(loadPolicy(bad)).rejects.toThrow(`${bad}: not valid JSON`);
  });
});

describe('requests against the policy', () => {
  let server: TestServer;
  let dir: string;
  const pool = filterPool(4000, 5);
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('not refused');
      },
      (error: ServiceError) => error,
    );

  beforeAll(async () => {
    server = await startTestServer();
    dir = scratchDir('blindlink-policy-');
    await writeList(join(dir, 'registry.arrow'), pool, range(0, 2000), { presence: null });
  });

  afterAll(async () => {
    await server?.stop();
  });

  async function projectWith(policy: Json, registry = 'registry', recipient = 'requesting agency') {
    const project = await createProject(server, policy, { registry, parties: { recipient } });
    await project.as('custodian-a').upload(project.id, join(dir, 'registry.arrow'));
    const upload = async (name: string, rows: number[], options: Parameters<typeof writeList>[3] = {}) =>
      (await project.as('custodian-b').upload(project.id, await writeList(join(dir, `${project.id}-${name}.arrow`), pool, rows, options))).id;
    return { ...project, upload };
  }

  it('refuses a deficient request with every reason at once, records the refusal, and releases nothing', async () => {
    const policy = openPolicy({
      request: { requiredFields: ['given_name', 'surname'], minRecords: 300 },
      release: { modes: { recipient: ['noisy-count'] } },
    });
    const project = await projectWith(policy);
    // Rows 0-2 lack a given name, rows 3-7 a surname; the street address is not required.
    const list = await project.upload('deficient', range(1900, 2100), { presence: (i) => [i > 2, i < 3 || i > 7, i % 2 === 0] });
    const error = await refusal(project.as('custodian-b').requestRun(project.id, { upload: list, release: 'count', epsilon: 0.7, metadata: { purpose: '  ' } }));
    expect(error.status).toBe(422);
    expect(error.reasons).toEqual([
      'metadata.purpose is missing: the policy requires the purpose of the request',
      'metadata.statutoryBasis is missing: the policy requires the statutory basis for it',
      'metadata.requestingOfficial is missing: the policy requires the requesting official',
      'release mode "count" is not allowed for the recipient (the policy allows: noisy-count)',
      'epsilon applies only to noisy release modes (noisy-count), not "count"',
      'the list has 200 records; the policy requires at least 300',
      '8 of 200 records lack a required identifier (given_name: 3, surname: 5); the policy requires given_name, surname for every record',
    ]);
    const noPresence = await project.upload('no-presence', range(0, 400), { presence: null });
    const second = await refusal(project.as('custodian-b').requestRun(project.id, { upload: noPresence, release: 'noisy-count', epsilon: 0.7, metadata: FULL_METADATA }));
    expect(second.reasons).toEqual([
      "epsilon 0.7 exceeds the policy's 0.5 per release",
      'the list carries no field-presence column, so the required identifiers (given_name, surname) cannot be checked (encode it with --record-presence)',
    ]);
    const third = await refusal(project.as('custodian-b').requestRun(project.id, { upload: 'upl_notanupload', release: 'noisy-count', metadata: FULL_METADATA }));
    expect(third.reasons).toEqual(['upload upl_notanupload is not an upload of custodian B in this project']);
    const refused = (error.body as { id: string }).id;
    expect(await project.as('recipient').run(project.id, refused)).toMatchObject({ status: 'refused', reasons: error.reasons });
    // A refused noisy-count request: the recipient may read that mode, but there is nothing to read.
    const release = await refusal(project.as('recipient').release(project.id, (second.body as { id: string }).id));
    expect(release.status).toBe(409);
    expect(release.message).toMatch(/refused: nothing was released/);
    const entries = (await project.as('auditor').audit(project.id)).entries.filter((e) => e.kind === 'run.refused');
    expect(entries).toHaveLength(3);
    expect((entries[0].data as { reasons: string[] }).reasons).toEqual(error.reasons);
    expect((entries[0].data as { metadata: Json }).metadata).toEqual({ purpose: '  ' });
    expect((await project.as('recipient').ledger(project.id)).spent).toBe(0);
  });

  it('spends epsilon per release and refuses overspend with a clear message, across projects on the same registry', async () => {
    const policy = openPolicy({ release: { modes: { recipient: ['noisy-count'] } }, privacy: { epsilonPerRelease: 0.5, lifetimeBudget: 1 } });
    const project = await projectWith(policy, 'budget registry', 'budget recipient');
    const list = await project.upload('list', range(1900, 2100));
    const ask = () => project.as('custodian-b').requestRun(project.id, { upload: list, release: 'noisy-count', metadata: FULL_METADATA });
    for (let i = 0; i < 2; i++) {
      const run = await project.as('custodian-b').waitForRun(project.id, (await ask()).id);
      expect(run).toMatchObject({ status: 'done', epsilon: 0.5 });
      const release = await project.as('recipient').release(project.id, run.id);
      expect(release).toMatchObject({ mode: 'noisy-count', epsilon: 0.5, records: { list: 200, registry: 2000 } });
      expect(Number(release.count)).toBeGreaterThanOrEqual(0);
    }
    const overspent = await refusal(ask());
    expect(overspent.reasons).toEqual(['the privacy budget of recipient "budget recipient" for registry "budget registry" would be overspent: 1 of 1 already spent, this release needs 0.5']);
    expect(await project.as('recipient').ledger(project.id)).toEqual({ recipient: 'budget recipient', registry: 'budget registry', spent: 1, budget: 1, remaining: 0 });
    // A new project does not reset the budget of the same recipient on the same registry...
    const again = await projectWith(policy, 'budget registry', 'budget recipient');
    const fresh = await again.upload('list', range(1900, 2100));
    const elsewhere = await refusal(again.as('custodian-b').requestRun(again.id, { upload: fresh, release: 'noisy-count', metadata: FULL_METADATA }));
    expect(elsewhere.reasons[0]).toMatch(/would be overspent: 1 of 1 already spent/);
    // ...but another registry has its own.
    const other = await projectWith(policy, 'another registry', 'budget recipient');
    const otherList = await other.upload('list', range(1900, 2100));
    expect((await other.as('custodian-b').requestRun(other.id, { upload: otherList, release: 'noisy-count', metadata: FULL_METADATA })).status).toBe('queued');
    const done = (await project.as('auditor').audit(project.id)).entries.filter((e) => e.kind === 'run.done');
    expect(done.map((e) => (e.data as { epsilonSpent: number }).epsilonSpent)).toEqual([0.5, 0.5]);
  });

  it('refuses the differencing attack: after a count on a list, a count on the same list plus one person (or with typos) is refused', async () => {
    const policy = openPolicy({ release: { modes: { recipient: ['count'] }, maxOverlapWithEarlierLists: 0.5 } });
    const project = await projectWith(policy, 'differencing registry');
    const people = range(1900, 2200); // 100 of them are in the registry
    const first = await project.upload('first', people);
    const asked = await project.as('custodian-b').requestRun(project.id, { upload: first, release: 'count', metadata: FULL_METADATA });
    await project.as('custodian-b').waitForRun(project.id, asked.id);
    expect((await project.as('recipient').release(project.id, asked.id)).count).toBe(100);

    // The target, row 42, is in the registry: the two counts would differ by exactly one.
    const plusOne = await project.upload('plus-one', [...people, 42]);
    const refused = await refusal(project.as('custodian-b').requestRun(project.id, { upload: plusOne, release: 'count', metadata: FULL_METADATA }));
    expect(refused.reasons).toHaveLength(1);
    expect(refused.reasons[0]).toMatch(/^the list shares 100\.0% of its records with list upl_\S+ released to recipient "requesting agency" \(run run_\S+\); the policy refuses exact releases above 50\.0%/);

    // The same list with a few bits changed in every record still matches itself: still refused.
    const noisyPool = pool.slice();
    for (let row = 1900; row < 2200; row++) for (let bit = 0; bit < 3; bit++) noisyPool[row * 128 + bit * 40] ^= 0x10;
    const typos = (await project.as('custodian-b').upload(project.id, await writeList(join(dir, 'typos.arrow'), noisyPool, [...people, 42]))).id;
    const refusedTypos = await refusal(project.as('custodian-b').requestRun(project.id, { upload: typos, release: 'count', metadata: FULL_METADATA }));
    expect(refusedTypos.reasons[0]).toMatch(/shares 100\.0% of its records/);

    // In another project, for the same recipient and registry, still refused.
    const elsewhere = await projectWith(policy, 'differencing registry');
    const moved = await elsewhere.upload('plus-one', [...people, 42]);
    expect((await refusal(elsewhere.as('custodian-b').requestRun(elsewhere.id, { upload: moved, release: 'count', metadata: FULL_METADATA }))).reasons[0]).toMatch(/shares 100\.0%/);

    // A list of other people is answered.
    const disjoint = await project.upload('disjoint', range(1000, 1200));
    const allowed = await project.as('custodian-b').requestRun(project.id, { upload: disjoint, release: 'count', metadata: FULL_METADATA });
    expect((await project.as('custodian-b').waitForRun(project.id, allowed.id)).status).toBe('done');
    expect((await project.as('recipient').release(project.id, allowed.id)).count).toBe(200);
  });
});
