// A bounded load on the linkage-unit service: N concurrent clients, each sending M requests over
// real HTTP on loopback (Node's fetch), a mix of every role's reads, refused requests (which write
// a run and an audit entry) and wrong-token calls; every answer is checked. Used by
// bench/service-load.ts (timings) and test/service-load.test.ts (correctness only).
import { ServiceClient } from '../src/service/client.js';
import type { Role } from '../src/service/policy.js';

export interface LoadProject {
  id: string;
  tokens: Record<Role, string>;
  /** A refused request made at setup, read back during the load. */
  run: string;
}

/** A project whose policy allows noisy counts only; no uploads are needed for the mix. */
export async function setUpLoadProject(server: string, adminToken: string): Promise<LoadProject> {
  const created = await new ServiceClient(server, adminToken).createProject({
    name: 'load',
    registry: 'load registry',
    schemaFingerprint: 'ab'.repeat(32),
    schemaFields: ['given_name', 'surname'],
    policy: {
      blindlinkPolicy: 1,
      match: { threshold: 0.8 },
      release: { modes: { recipient: ['noisy-count'] } },
      privacy: { epsilonPerRelease: 0.5, lifetimeBudget: 2 },
    },
    parties: { 'custodian-a': 'a', 'custodian-b': 'b', recipient: 'r', auditor: 'x' },
  });
  const refused = await new ServiceClient(server, created.tokens['custodian-b'])
    .requestRun(created.id, { upload: 'upl_notanupload', release: 'noisy-count', metadata: {} })
    .then(
      () => {
        throw new Error('the setup request was not refused');
      },
      (error: { body: { id: string } }) => error.body.id,
    );
  return { id: created.id, tokens: created.tokens, run: refused };
}

interface Call {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  token: string;
  body?: string;
  status: number;
  /** A check of the answer's body beyond its status. */
  check: (body: unknown) => boolean;
}

function calls(project: LoadProject): Call[] {
  const p = `/projects/${project.id}`;
  const t = project.tokens;
  const isObject = (body: unknown): body is Record<string, unknown> => typeof body === 'object' && body !== null;
  return [
    { name: 'project (recipient)', method: 'GET', path: p, token: t.recipient, status: 200, check: (b) => isObject(b) && b.you === 'recipient' },
    { name: 'ledger (auditor)', method: 'GET', path: `${p}/ledger`, token: t.auditor, status: 200, check: (b) => isObject(b) && b.budget === 2 },
    { name: 'uploads (custodian A)', method: 'GET', path: `${p}/uploads`, token: t['custodian-a'], status: 200, check: (b) => isObject(b) && Array.isArray(b.uploads) },
    { name: 'run (custodian B)', method: 'GET', path: `${p}/runs/${project.run}`, token: t['custodian-b'], status: 200, check: (b) => isObject(b) && b.status === 'refused' },
    {
      name: 'refused request (custodian B)',
      method: 'POST',
      path: `${p}/runs`,
      token: t['custodian-b'],
      body: JSON.stringify({ upload: 'upl_notanupload', release: 'noisy-count', metadata: {} }),
      status: 422,
      check: (b) => isObject(b) && b.status === 'refused' && Array.isArray(b.reasons) && b.reasons.length === 5,
    },
    { name: 'audit (recipient: forbidden)', method: 'GET', path: `${p}/audit`, token: t.recipient, status: 403, check: () => true },
    { name: 'wrong token', method: 'GET', path: p, token: 'blt_wrongwrongwrongwrongwrongwrongwrongwrong00', status: 401, check: (b) => isObject(b) && b.error === 'unauthorized' },
  ];
}

export interface LoadResult {
  clients: number;
  requests: number;
  seconds: number;
  /** Latency of every request, ms, ascending. */
  latencies: Float64Array;
  /** Requests per call name. */
  byCall: Record<string, number>;
  /** Answers that did not match their expected status or body (should be empty). */
  errors: string[];
  /** Refused requests sent: each must appear once in the audit log. */
  refusals: number;
}

/** Runs `clients` loops of `perClient` requests at once; client c starts at call c, so the mix is even. */
export async function runLoad(server: string, project: LoadProject, clients: number, perClient: number): Promise<LoadResult> {
  const mix = calls(project);
  const latencies: number[] = [];
  const errors: string[] = [];
  const byCall: Record<string, number> = {};
  let refusals = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = 0; i < perClient; i++) {
        const call = mix[(client + i) % mix.length];
        const t0 = performance.now();
        try {
          const response = await fetch(`${server}${call.path}`, {
            method: call.method,
            headers: { authorization: `Bearer ${call.token}`, ...(call.body ? { 'content-type': 'application/json' } : {}) },
            body: call.body,
          });
          const text = await response.text();
          latencies.push(performance.now() - t0);
          byCall[call.name] = (byCall[call.name] ?? 0) + 1;
          if (call.status === 422) refusals++;
          let body: unknown = null;
          try {
            body = JSON.parse(text);
          } catch {
            body = null;
          }
          if (response.status !== call.status || !call.check(body)) errors.push(`${call.name}: ${response.status} ${text.slice(0, 200)}`);
        } catch (error) {
          errors.push(`${call.name}: ${(error as Error).message}`);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { clients, requests: latencies.length, seconds, latencies: Float64Array.from(latencies).sort(), byCall, errors, refusals };
}

/** The p-th percentile (0..100) of ascending values, nearest rank. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
