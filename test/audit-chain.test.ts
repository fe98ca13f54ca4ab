// The audit hash chain on its own: each hash recomputed with node:crypto from its definition,
// and every kind of tampering named at the right entry.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { entryHash, genesisHash, verifyChain, type AuditEntry } from '../src/audit/chain.js';

function chain(projectId: string, count: number): AuditEntry[] {
  const entries: AuditEntry[] = [];
  let prev = genesisHash(projectId);
  for (let seq = 1; seq <= count; seq++) {
    const body = { projectId, seq, at: `2026-01-01T00:00:0${seq}.000Z`, kind: `k${seq}`, actor: 'service', data: { n: seq, list: [seq, 'x'] } };
    const entry = { ...body, prevHash: prev, hash: entryHash(prev, body) };
    entries.push(entry);
    prev = entry.hash;
  }
  return entries;
}

describe('audit chain', () => {
  it('hashes the previous hash, a newline and the canonical JSON of the entry (sorted keys, no spaces)', () => {
    const [first] = chain('prj_a', 1);
    expect(first.prevHash).toBe(createHash('sha256').update('blindlink audit chain v1\nprj_a').digest('hex'));
    const canonical = '{"actor":"service","at":"2026-01-01T00:00:01.000Z","data":{"list":[1,"x"],"n":1},"kind":"k1","projectId":"prj_a","seq":1}';
    expect(first.hash).toBe(createHash('sha256').update(`${first.prevHash}\n${canonical}`).digest('hex'));
  });

  it('verifies an intact chain and names the first entry that was changed, removed, reordered or moved from another project', () => {
    const entries = chain('prj_a', 5);
    expect(verifyChain('prj_a', entries)).toEqual({ ok: true, entries: 5, head: entries[4].hash });
    const changed = entries.map((e) => (e.seq === 3 ? { ...e, data: { n: 30 } } : e));
    expect(verifyChain('prj_a', changed)).toMatchObject({ ok: false, seq: 3, kind: 'k3', reason: expect.stringMatching(/content does not match its hash/) });
    expect(verifyChain('prj_a', entries.filter((e) => e.seq !== 2))).toMatchObject({ ok: false, seq: 3, reason: expect.stringMatching(/out of sequence/) });
    const renumbered = entries.filter((e) => e.seq !== 2).map((e, i) => ({ ...e, seq: i + 1 }));
    expect(verifyChain('prj_a', renumbered)).toMatchObject({ ok: false, seq: 2, reason: expect.stringMatching(/does not link/) });
    const swapped = [entries[0], entries[2], entries[1], entries[3], entries[4]];
    expect(verifyChain('prj_a', swapped)).toMatchObject({ ok: false, seq: 3 });
    expect(verifyChain('prj_b', entries)).toMatchObject({ ok: false, seq: 1, reason: 'belongs to project prj_a' });
    // A whole chain copied to another project id does not verify there: the genesis binds the id.
    expect(verifyChain('prj_b', entries.map((e) => ({ ...e, projectId: 'prj_b' })))).toMatchObject({ ok: false, seq: 1, reason: expect.stringMatching(/does not link/) });
  });
});
