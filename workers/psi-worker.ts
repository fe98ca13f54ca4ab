// Piscina worker for PSI-cardinality: hashes tokens onto the group and blinds them, or blinds
// elements another party sent, with the seed it got once as workerData.
import { Piscina } from 'piscina';
import { blindElements, blindingKey, hashToGroup, loadGroup, LowOrderElement } from '../src/psi/group.js';
import { tokenDigests } from '../src/psi/keys.js';
import type { PsiTask, PsiTaskResult, PsiWorkerSetup } from '../src/psi/parallel.js';

const setup = Piscina.workerData as PsiWorkerSetup;
const key = blindingKey(setup.seed);
// The KeyObject holds the key now; this thread's copy of the seed is no longer needed.
setup.seed.fill(0);

/** Blinded elements of one chunk, in input order. */
export default async function blindChunk(task: PsiTask): Promise<PsiTaskResult> {
  await loadGroup();
  const elements = task.kind === 'hash' ? hashToGroup(tokenDigests(setup.domain, task.tokens), task.tokens.length) : task.elements;
  try {
    blindElements(key, elements, elements);
  } catch (error) {
    if (error instanceof LowOrderElement) return { elements: new Uint8Array(0), lowOrder: error.index };
    throw error;
  }
  return { elements, lowOrder: -1 };
}
