// `blindlink demo --service`: the linkage unit as a real server process on loopback. Two
// custodians upload; a deficient request and a request with a wrong token are refused; custodian
// B fixes its list and asks again; the recipient reads a noisy count; the server restarts and
// keeps its state; the audit chain is verified over the API and straight from the store.
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyChain } from '../audit/chain.js';
import { describeVerdict, verifyStore } from '../audit/verify-store.js';
import { encodeFile } from '../encode-file.js';
import { readEncodedFile, writeEncodedFile } from '../io/encoded-file.js';
import { isPresent, presenceBytes } from '../presence.js';
import { loadSchema } from '../schema/load.js';
import type { Json } from '../schema/json-checks.js';
import { readSecret, writeNewSecret } from '../secret.js';
import { DEFAULT_CORRUPTION } from '../synth/corrupt.js';
import { synthesize } from '../synth/write.js';
import { packagePath } from '../worker-path.js';
import { ServiceClient, ServiceError } from './client.js';
import { loadPolicy } from './policy.js';
import { startServer, type ServerProcess } from './server-process.js';
import { openStore } from './store/open.js';
import { newToken } from './tokens.js';

export interface ServiceDemoOptions {
  registry: number;
  requests: number;
  seed: number;
  workers: number;
  keepIn?: string;
}

export interface ServiceDemoReport {
  project: string;
  refusedReasons: string[];
  wrongTokenStatus: number;
  release: { [key: string]: Json };
  trueOverlap: number;
  ledger: { spent: number; budget: number | null };
  stateKeptAcrossRestart: boolean;
  auditEntries: number;
  folder: string | null;
}

/** Custodian B drops, from its own encoded list, the records lacking a required identifier. */
async function keepComplete(input: string, output: string, required: readonly string[]): Promise<{ kept: number[]; dropped: number }> {
  const file = await readEncodedFile(input);
  const fields = file.metadata?.presenceFields ?? [];
  const width = presenceBytes(fields.length);
  const indices = required.map((name) => fields.indexOf(name));
  const kept: number[] = [];
  for (let row = 0; row < file.count; row++) if (indices.every((f) => isPresent(file.presence!, width, row, f))) kept.push(row);
  const bytes = file.filterBits / 8;
  const clks = new Uint8Array(kept.length * bytes);
  const presence = new Uint8Array(kept.length * width);
  const popcounts = new Uint16Array(kept.length);
  kept.forEach((row, i) => {
    clks.set(file.clks.subarray(row * bytes, (row + 1) * bytes), i * bytes);
    presence.set(file.presence!.subarray(row * width, (row + 1) * width), i * width);
    popcounts[i] = file.popcounts[row];
  });
  await writeEncodedFile(output, { clks, popcounts, presence, ids: null, filterBits: file.filterBits, metadata: { ...file.metadata!, recordCount: kept.length } });
  return { kept, dropped: file.count - kept.length };
}

export async function runServiceDemo(options: ServiceDemoOptions, say: (line: string) => void): Promise<ServiceDemoReport> {
  const folder = options.keepIn ?? (await mkdtemp(join(tmpdir(), 'blindlink-service-demo-')));
  const file = (name: string) => join(folder, name);
  const data = file('linkage-unit');
  const schema = packagePath('docs/examples/taxpayer-schema.json');
  const policyFile = packagePath('docs/examples/service-policy.json');
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await work();
    say(`${name.padEnd(84)} ${((performance.now() - started) / 1000).toFixed(2).padStart(6)} s`);
    return result;
  };
  const detail = (line: string) => say(`    ${line}`);
  let server: ServerProcess | null = null;
  const serverArgs = ['--data', data, '--workers', String(options.workers), '--log-level', 'warn'];
  try {
    const synth = await step(`synthesise ${options.registry.toLocaleString('en-US')} taxpayers and ${options.requests.toLocaleString('en-US')} requests`, () =>
      synthesize({ registry: options.registry, requests: options.requests, overlap: 0.037, seed: options.seed, outDir: folder, rates: DEFAULT_CORRUPTION, namesakeRate: 0.1, relativeRate: 0.1 }),
    );
    await writeNewSecret(file('secret.key'));
    const secret = await readSecret(file('secret.key'));
    const encode = (input: string, output: string, recordPresence: boolean) =>
      encodeFile({ schema, secret, input, output, workers: options.workers, dialect: { delimiter: ',', trim: false }, onError: 'fail', recordPresence });
    await step('custodians agree on a secret; the tax agency encodes its registry', () => encode(synth.registryPath, file('registry.arrow'), false));
    await step('the requesting agency encodes its list, recording field presence', () => encode(synth.requestsPath, file('requests.arrow'), true));
    secret.fill(0);

    server = await step('start the linkage unit: blindlink serve on loopback, a free port', () => startServer(serverArgs));
    detail(`listening on ${server.url}, store in ${data}`);
    const admin = new ServiceClient(server.url, (await readFile(join(data, 'admin.token'), 'utf8')).trim());
    const plan = await loadSchema(schema);
    const { policy, document } = await loadPolicy(policyFile);
    const created = await step('the operator creates a project with the policy; each party gets a token', () =>
      admin.createProject({
        name: 'address requests',
        registry: 'taxpayer-registry',
        schemaFingerprint: plan.fingerprint,
        schemaFields: plan.fields.map((field) => field.name),
        policy: document,
        parties: { 'custodian-a': 'tax agency', 'custodian-b': 'requesting agency', recipient: 'requesting agency', auditor: 'inspector general' },
      }),
    );
    const project = created.id;
    detail(`project ${project}; policy: ${policy.request.requiredFields.join(', ')} for every record, purpose, statutory basis and official, at least ${policy.request.minRecords} records, recipient may read ${policy.release.modes.recipient.join(', ')}, epsilon ${policy.privacy?.epsilonPerRelease} per release of ${policy.privacy?.lifetimeBudget}`);
    const as = (role: keyof typeof created.tokens) => new ServiceClient(server!.url, created.tokens[role]);
    const taxAgency = as('custodian-a');
    const requester = as('custodian-b');
    const recipient = as('recipient');

    const [registryUpload, listUpload] = await step('both custodians upload their encoded files at once (checked on arrival)', () =>
      Promise.all([taxAgency.upload(project, file('registry.arrow')), requester.upload(project, file('requests.arrow'))]),
    );
    detail(`registry ${registryUpload.id}: ${registryUpload.status}, ${registryUpload.records} records; list ${listUpload.id}: ${listUpload.status}, ${listUpload.records} records`);

    const refusedReasons = await step('a deficient request (no purpose, basis or official; an exact count) is refused', async () => {
      try {
        await requester.requestRun(project, { upload: listUpload.id, release: 'count', metadata: {} });
      } catch (error) {
        if (error instanceof ServiceError && error.status === 422) return error.reasons;
        throw error;
      }
      throw new Error('the deficient request was not refused');
    });
    for (const reason of refusedReasons) detail(`refused: ${reason}`);

    const wrongTokenStatus = await step('a request with a wrong token is refused', async () => {
      try {
        await new ServiceClient(server!.url, newToken()).requestRun(project, { upload: listUpload.id, release: 'noisy-count', metadata: {} });
      } catch (error) {
        if (error instanceof ServiceError) return error.status;
        throw error;
      }
      throw new Error('the wrong token was accepted');
    });
    detail(`HTTP ${wrongTokenStatus}: the answer does not say whether the project exists`);

    const fixed = await step('custodian B drops the records lacking an identifier and uploads again', async () => {
      const { kept, dropped } = await keepComplete(file('requests.arrow'), file('requests-complete.arrow'), policy.request.requiredFields);
      return { kept, dropped, upload: await requester.upload(project, file('requests-complete.arrow')) };
    });
    detail(`dropped ${fixed.dropped} records; upload ${fixed.upload.id}: ${fixed.upload.status}, ${fixed.upload.records} records`);

    const run = await step('a complete request (noisy count, purpose, basis, official) runs on the worker pool', async () => {
      const queued = await requester.requestRun(project, {
        upload: fixed.upload.id,
        release: 'noisy-count',
        metadata: { purpose: 'locate people named in removal proceedings', statutoryBasis: '26 U.S.C. 6103(i)(2)', requestingOfficial: 'field office director' },
      });
      return requester.waitForRun(project, queued.id);
    });
    if (run.status !== 'done') throw new Error(`the run ${run.status}: ${run.reasons.join('; ')}`);
    const release = await step('the recipient reads the release', () => recipient.release(project, run.id));
    const truth = (await readFile(synth.truthPath, 'utf8')).trim().split('\n').slice(1).map((line) => Number(line.split(',')[0]));
    const keptRows = new Set(fixed.kept);
    const trueOverlap = truth.filter((row) => keptRows.has(row)).length;
    detail(`released: ${String(release.count)} people in common (noisy, epsilon ${String(release.epsilon)}); true overlap ${trueOverlap} (demo only)`);
    const ledger = await recipient.ledger(project);
    detail(`ledger: epsilon ${ledger.spent} of ${ledger.budget} spent by "${ledger.recipient}" on "${ledger.registry}"`);

    const stateKept = await step('restart the server on the same store; its state is kept', async () => {
      await server!.stop();
      server = await startServer(serverArgs);
      const again = new ServiceClient(server.url, created.tokens.recipient);
      const [runAfter, releaseAfter, ledgerAfter] = await Promise.all([again.run(project, run.id), again.release(project, run.id), again.ledger(project)]);
      return runAfter.status === 'done' && releaseAfter.count === release.count && ledgerAfter.spent === ledger.spent;
    });
    detail(stateKept ? 'the run, its release and the ledger are as before' : 'STATE WAS LOST');

    const chain = await step('the auditor fetches the audit log and verifies its hash chain', async () => {
      const { entries } = await new ServiceClient(server!.url, created.tokens.auditor).audit(project);
      if (entries.length === 0) throw new Error('the audit log is empty');
      return { entries, verdict: verifyChain(project, entries) };
    });
    for (const entry of chain.entries) detail(`#${entry.seq} ${entry.kind} by ${entry.actor}`);
    detail(describeVerdict(project, chain.verdict));
    await server.stop();
    server = null;
    const direct = await step('blindlink audit verify, straight from the store', async () => {
      const store = await openStore({ data, create: false });
      try {
        return await verifyStore(store);
      } finally {
        await store.close();
      }
    });
    detail(direct.ok ? `intact: ${direct.entries} entries` : 'BROKEN');
    if (!chain.verdict.ok || !direct.ok || !stateKept) throw new Error('the service demo found a broken audit chain or lost state');
    return {
      project,
      refusedReasons,
      wrongTokenStatus,
      release,
      trueOverlap,
      ledger: { spent: ledger.spent, budget: ledger.budget },
      stateKeptAcrossRestart: stateKept,
      auditEntries: chain.entries.length,
      folder: options.keepIn ?? null,
    };
  } finally {
    await (server as ServerProcess | null)?.stop();
    if (options.keepIn === undefined) await rm(folder, { recursive: true, force: true });
  }
}
