// Verifies every project's audit chain in a service store, read directly (not through the
// server), and names the first broken entry.
import type { Store } from '../service/store/records.js';
import { verifyChain, type ChainVerdict } from './chain.js';

export interface StoreVerdict {
  projects: Array<{ projectId: string; verdict: ChainVerdict }>;
  ok: boolean;
  entries: number;
}

export async function verifyStore(store: Store, only?: string): Promise<StoreVerdict> {
  const ids = only === undefined ? await store.projectIds() : [only];
  const projects = [];
  for (const projectId of ids) projects.push({ projectId, verdict: verifyChain(projectId, await store.audit(projectId)) });
  return {
    projects,
    ok: projects.every((p) => p.verdict.ok),
    entries: projects.reduce((sum, p) => sum + (p.verdict.ok ? p.verdict.entries : 0), 0),
  };
}

/** One line per project: intact with its head hash, or the first broken entry and why. */
export function describeVerdict(projectId: string, verdict: ChainVerdict): string {
  return verdict.ok
    ? `${projectId}: intact, ${verdict.entries} entries, head ${verdict.head}`
    : `${projectId}: BROKEN at entry ${verdict.seq} (${verdict.kind}): ${verdict.reason}`;
}
