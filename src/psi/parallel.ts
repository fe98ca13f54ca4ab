// Blinding on worker threads: the token hashes and the X25519 ladders are independent per element,
// so chunks of a set go to a piscina pool and come back in order. Each worker receives the derived
// blinding seed once (workerData), never the key file.
import { UserError } from '../errors.js';
import { createPool, destroyPool } from '../pool.js';
import { workerFile } from '../worker-path.js';
import { ELEMENT_BYTES } from './group.js';

export interface PsiWorkerSetup {
  /** 32-byte blinding seed (deriveBlindingSeed); each worker copies it into a key and zeroes it. */
  seed: Uint8Array;
  /** Token hash domain (hashDomain); needed only for 'hash' tasks. */
  domain: Uint8Array;
}

export type PsiTask = { kind: 'hash'; tokens: string[] } | { kind: 'blind'; elements: Uint8Array };

/** Blinded elements of the chunk, or the chunk-relative index of a low-order element. */
export interface PsiTaskResult {
  elements: Uint8Array;
  lowOrder: number;
}

// 4096 elements cost about 0.2 s of CPU: large enough that thread messages are noise, small
// enough that two workers stay evenly loaded to the end.
export const CHUNK_ELEMENTS = 4096;

export interface BlindingJob {
  setup: PsiWorkerSetup;
  workers: number;
  /** Names the input in a low-order error. */
  source: string;
}

async function runTasks(job: BlindingJob, tasks: PsiTask[], total: number): Promise<Uint8Array> {
  const pool = createPool<PsiTask, PsiTaskResult>(workerFile('psi-worker'), { threads: job.workers, workerData: job.setup, idleTimeout: 1000 });
  const out = new Uint8Array(total * ELEMENT_BYTES);
  const inFlight: Array<{ offset: number; result: Promise<PsiTaskResult> }> = [];
  let offset = 0;
  let written = 0;
  const settle = async (): Promise<void> => {
    const next = inFlight.shift()!;
    const result = await next.result;
    if (result.lowOrder >= 0) {
      throw new UserError(`${job.source}: element ${next.offset / ELEMENT_BYTES + result.lowOrder} is a low-order point, not a blinded token (a corrupt or malicious message)`);
    }
    out.set(result.elements, next.offset);
    written += result.elements.length;
  };
  try {
    for (const task of tasks) {
      inFlight.push({ offset, result: pool.run(task) });
      offset += (task.kind === 'hash' ? task.tokens.length : task.elements.length / ELEMENT_BYTES) * ELEMENT_BYTES;
      if (inFlight.length >= job.workers * 3) await settle();
    }
    while (inFlight.length > 0) await settle();
  } catch (error) {
    await Promise.allSettled(inFlight.map((entry) => entry.result));
    throw error;
  } finally {
    await destroyPool(pool);
  }
  if (written !== out.length) throw new Error(`blinding wrote ${written} of ${out.length} bytes`);
  return out;
}

/** Hashes each token onto the group and blinds it; element i belongs to tokens[i]. */
export function hashAndBlind(job: BlindingJob, tokens: readonly string[]): Promise<Uint8Array> {
  const tasks: PsiTask[] = [];
  for (let start = 0; start < tokens.length; start += CHUNK_ELEMENTS) tasks.push({ kind: 'hash', tokens: tokens.slice(start, start + CHUNK_ELEMENTS) });
  return runTasks(job, tasks, tokens.length);
}

/** Blinds elements already in the group (another party's message). */
export function blindAll(job: BlindingJob, elements: Uint8Array): Promise<Uint8Array> {
  const tasks: PsiTask[] = [];
  const step = CHUNK_ELEMENTS * ELEMENT_BYTES;
  for (let start = 0; start < elements.length; start += step) tasks.push({ kind: 'blind', elements: elements.slice(start, start + step) });
  return runTasks(job, tasks, elements.length / ELEMENT_BYTES);
}
