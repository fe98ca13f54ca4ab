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
  for (const projectId of ids) {
    const entries = await store.audit(projectId);
    let verdict = verifyChain(projectId, entries);
    // Entries removed from the end leave a shorter chain that still links; the head row kept
    // beside them (updated in the same transaction as each append) still names the last one.
    const head = await store.auditHead(projectId);
    if (verdict.ok && head !== null && (head.seq !== verdict.entries || head.hash !== verdict.head)) {
      verdict = { ok: false, seq: verdict.entries + 1, kind: 'missing', reason: `the chain ends at entry ${verdict.entries} but the store's head names entry ${head.seq}: entries were removed from the end` };
    }
    projects.push({ projectId, verdict });
  }
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
