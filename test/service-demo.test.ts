// `blindlink demo --service` end to end on a small population: a real server process, refusals,
// a release, a restart, the audit chain; and the plain demo's flags are unchanged.
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.js';

describe('blindlink demo --service', () => {
  it('prints each step and ends with a verified audit chain', async () => {
    const result = await runCli(['demo', '--service', '--registry', '3000', '--requests', '500', '--workers', '2']);
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    for (const step of [
      /start the linkage unit: blindlink serve on loopback, a free port/,
      /listening on http:\/\/127\.0\.0\.1:\d+/,
      /both custodians upload their encoded files at once/,
      /refused: metadata\.purpose is missing/,
      /refused: release mode "count" is not allowed for the recipient/,
      /a request with a wrong token is refused\s+[\d.]+ s\n\s+HTTP 401/,
      /released: \d+ people in common \(noisy, epsilon 0\.5\)/,
      /the run, its release and the ledger are as before/,
      /#1 project\.created by admin/,
      /run\.refused by custodian-b/,
      /release\.read by recipient/,
      /: intact, \d+ entries, head [0-9a-f]{64}/,
      /blindlink audit verify, straight from the store\s+[\d.]+ s\n\s+intact: \d+ entries/,
    ]) {
      expect(out).toMatch(step);
    }
    expect(out).not.toMatch(/blt_/);
  });
});
