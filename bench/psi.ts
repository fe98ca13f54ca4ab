// PSI-cardinality cost: both parties' steps of `blindlink psi` (blind, blind, reblind, count, with
// the message files written and read back) on N x N synthetic tokens, in CPU core-seconds (every
// thread of the process, from process.cpuUsage) and wall time; then the per-operation costs of the
// alternatives behind the design choice (@noble/curves' ristretto255, libsodium's), and optionally
// OpenMined's psi.js on the same sizes.
// Usage: node dist/bench/psi.js [--n 100000] [--workers 2] [--overlap 0.5] [--openmined DIR]
//   DIR: a folder where `npm install --ignore-scripts @openmined/psi.js@2.0.6` was run (never a
//   dependency of blindlink; its install script downloads a protoc build, hence --ignore-scripts).
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import sodium from 'libsodium-wrappers-sumo';
import { blindElements, blindingKey, hashToGroup, loadGroup } from '../src/psi/group.js';
import { tokenDigests } from '../src/psi/keys.js';
import { makeHeader, readMessage, writeMessage } from '../src/psi/message.js';
import { blindOwnSet, intersectionSize, reblindOther } from '../src/psi/protocol.js';

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

const n = Number(flag('n', '100000'));
const workers = Number(flag('workers', String(availableParallelism())));
const overlap = Number(flag('overlap', '0.5'));
const openmined = flag('openmined', '');
const schema = 'f'.repeat(64);
const session = 'bench';

interface Measured {
  cpu: number;
  wall: number;
}

async function measure<T>(work: () => Promise<T> | T): Promise<Measured & { value: T }> {
  return once(work);
}

/** Per-operation figures: a first, discarded run lets the JIT compile the code measured. */
async function warm<T>(work: () => Promise<T> | T): Promise<Measured & { value: T }> {
  await work();
  return once(work);
}

async function once<T>(work: () => Promise<T> | T): Promise<Measured & { value: T }> {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  const value = await work();
  const used = process.cpuUsage(cpu);
  return { value, cpu: (used.user + used.system) / 1e6, wall: (performance.now() - wall) / 1000 };
}

const fmt = (m: Measured): string => `${m.cpu.toFixed(2).padStart(7)} core-s ${m.wall.toFixed(2).padStart(7)} s wall`;

console.log(`machine: ${cpus()[0]?.model ?? 'unknown'} x ${cpus().length}, node ${process.version}, load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
console.log(`blindlink psi, ${n.toLocaleString('en-US')} x ${n.toLocaleString('en-US')} tokens, ${Math.round(overlap * n).toLocaleString('en-US')} common, ${workers} worker thread(s)`);

await loadGroup();
const requesterTokens = Array.from({ length: n }, (_, i) => JSON.stringify(['person', String(i)]));
const registryTokens = Array.from({ length: n }, (_, i) => JSON.stringify(['person', String(i + Math.round((1 - overlap) * n))]));
const requester = { keyFileBytes: randomBytes(32), session, workers };
const registry = { keyFileBytes: randomBytes(32), session, workers };
const folder = await mkdtemp(join(tmpdir(), 'blindlink-bench-psi-'));
const file = (name: string): string => join(folder, name);
try {
  const steps: Array<[string, Measured]> = [];
  const a1 = await measure(async () => {
    const elements = await blindOwnSet(requester, schema, requesterTokens);
    await writeMessage(file('a1.psi'), makeHeader('blinded', 'requester', session, schema, n), elements);
  });
  steps.push(['requester: blind own set', a1]);
  const b1 = await measure(async () => {
    const elements = await blindOwnSet(registry, schema, registryTokens);
    await writeMessage(file('b1.psi'), makeHeader('blinded', 'registry', session, schema, n), elements);
  });
  steps.push(['registry: blind own set', b1]);
  const a2 = await measure(async () => {
    const message = await readMessage(file('a1.psi'));
    const elements = await reblindOther(registry, schema, message.elements, 'a1.psi');
    await writeMessage(file('a2.psi'), makeHeader('reblinded', 'requester', session, schema, n), elements);
  });
  steps.push(["registry: reblind requester's set", a2]);
  const count = await measure(async () => {
    const own = await readMessage(file('a2.psi'));
    const other = await readMessage(file('b1.psi'));
    return intersectionSize(own.elements, await reblindOther(requester, schema, other.elements, 'b1.psi'));
  });
  steps.push(['requester: reblind registry set, count', count]);
  for (const [name, m] of steps) console.log(`  ${name.padEnd(42)} ${fmt(m)}`);
  const total = steps.reduce((sum, [, m]) => ({ cpu: sum.cpu + m.cpu, wall: sum.wall + m.wall }), { cpu: 0, wall: 0 });
  console.log(`  ${'total (both parties)'.padEnd(42)} ${fmt(total)}`);
  console.log(`  intersection ${count.value} (expected ${Math.round(overlap * n)})`);
  console.log(`  per element: ${((total.cpu / (2 * n)) * 1e6).toFixed(1)} us of CPU (one hash, two blindings each)`);

  // Per-operation costs on one thread, for the design note in src/psi/group.ts.
  const sample = 2000;
  const digests = randomBytes(64 * sample);
  const per = (m: Measured): string => `${((m.cpu / sample) * 1e6).toFixed(1)} us`;
  const hashed = await warm(() => hashToGroup(digests, sample));
  const key = blindingKey(randomBytes(32));
  const blinded = await warm(() => blindElements(key, hashed.value));
  const digestOnly = await warm(() => tokenDigests(new Uint8Array(8), requesterTokens.slice(0, sample)));
  const derive = ristretto255_hasher.deriveToCurve;
  if (derive === undefined) throw new Error('@noble/curves lacks ristretto255 deriveToCurve');
  const points = Array.from({ length: sample }, (_, i) => derive(digests.subarray(64 * i, 64 * i + 64)));
  const nobleHash = await warm(() => points.map((_, i) => derive(digests.subarray(64 * i, 64 * i + 64))));
  const scalar = ristretto255.Point.Fn.create(BigInt(`0x${randomBytes(40).toString('hex')}`));
  const nobleMultiply = await warm(() => points.map((p) => p.multiply(scalar)));
  const nobleUnsafe = await warm(() => points.map((p) => p.multiplyUnsafe(scalar)));
  const nobleEncode = await warm(() => points.map((p) => p.toBytes()));
  const encodings = points.map((p) => p.toBytes());
  const nobleDecode = await warm(() => encodings.map((e) => ristretto255.Point.fromBytes(e)));
  const sodiumHash = await warm(() => points.map((_, i) => sodium.crypto_core_ristretto255_from_hash(digests.subarray(64 * i, 64 * i + 64))));
  const sodiumScalar = sodium.crypto_core_ristretto255_scalar_random();
  const sodiumMultiply = await warm(() => encodings.map((e) => sodium.crypto_scalarmult_ristretto255(sodiumScalar, e)));
  console.log(`per operation, one thread (${sample} samples):`);
  console.log(`  blindlink: SHA-512 token digest ${per(digestOnly)}, hash onto the group ${per(hashed)}, X25519 blinding ${per(blinded)}`);
  console.log(`  @noble/curves ristretto255: hash (deriveToCurve) ${per(nobleHash)}, multiply ${per(nobleMultiply)}, multiplyUnsafe ${per(nobleUnsafe)}, encode ${per(nobleEncode)}, decode ${per(nobleDecode)}`);
  console.log(`  libsodium ristretto255: hash (from_hash) ${per(sodiumHash)}, scalarmult ${per(sodiumMultiply)}`);
  const nobleRun = (2 * nobleHash.cpu + 4 * nobleMultiply.cpu + 4 * nobleEncode.cpu + 2 * nobleDecode.cpu) * (n / sample);
  const sodiumRun = (2 * sodiumHash.cpu + 4 * sodiumMultiply.cpu) * (n / sample);
  console.log(`  the same ${n.toLocaleString('en-US')} x ${n.toLocaleString('en-US')} run built on them (extrapolated): noble ${nobleRun.toFixed(0)} core-s, libsodium ${sodiumRun.toFixed(0)} core-s`);

  if (openmined !== '') {
    interface PsiJs {
      server: { createWithNewKey(reveal: boolean): { createSetupMessage(fpr: number, clients: number, inputs: string[], ds: unknown): unknown; processRequest(request: unknown): unknown } };
      client: { createWithNewKey(reveal: boolean): { createRequest(inputs: string[]): unknown; getIntersectionSize(setup: unknown, response: unknown): number } };
      dataStructure: { Raw: unknown };
    }
    const load = createRequire(join(openmined, 'package.json'))('@openmined/psi.js') as () => Promise<PsiJs>;
    const psi = await load();
    const om = await measure(() => {
      const server = psi.server.createWithNewKey(false);
      const client = psi.client.createWithNewKey(false);
      const setup = server.createSetupMessage(0, n, registryTokens, psi.dataStructure.Raw);
      const response = server.processRequest(client.createRequest(requesterTokens));
      return client.getIntersectionSize(setup, response);
    });
    console.log(`OpenMined psi.js (one thread, Raw data structure, no false positives): ${fmt(om)}, intersection ${om.value}`);
    console.log(`  blindlink per core: ${(om.cpu / total.cpu).toFixed(1)}x less CPU`);
  } else {
    console.log(`OpenMined psi.js: not run (give --openmined DIR); the issue's figure is 283 s on one core for 100k x 100k: blindlink ${(283 / total.cpu).toFixed(1)}x less CPU`);
  }
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
} finally {
  await rm(folder, { recursive: true, force: true });
}
