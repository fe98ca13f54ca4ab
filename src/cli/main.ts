#!/usr/bin/env node
// blindlink command line: thin shells around the library, one module per command.
import { Command } from 'commander';
import { BLINDLINK_VERSION } from '../version.js';
import { attackCommand } from './attack-command.js';
import { auditCommand } from './audit-command.js';
import { dedupCommand } from './dedup-command.js';
import { demoCommand } from './demo-command.js';
import { assertNoSecretArgument, encodeCommand } from './encode-command.js';
import { evaluateCommand } from './evaluate-command.js';
import { inspectCommand } from './inspect-command.js';
import { keygenCommand } from './keygen-command.js';
import { linkCommand } from './link-command.js';
import { assertNoTokenArgument, luCommand } from './lu-command.js';
import { matchCommand } from './match-command.js';
import { policyLabCommand } from './policy-lab-command.js';
import { psiCommand } from './psi-command.js';
import { reportError } from './run.js';
import { serveCommand } from './serve-command.js';
import { synthCommand } from './synth-command.js';
import { workerCommand } from './worker-command.js';

function program(): Command {
  const root = new Command('blindlink')
    .description('privacy-preserving record linkage: encode with a shared secret, match encodings, release only a count')
    .version(BLINDLINK_VERSION)
    .addHelpText(
      'after',
      `
Typical run:
  blindlink keygen --out secret.key                                   (custodian A, shares it with B)
  blindlink encode --schema schema.json --secret-file secret.key --in a.csv --out a.arrow   (each custodian)
  blindlink match a.arrow b.arrow --threshold 0.8                     (linkage unit: prints a count)
  blindlink match a.arrow b.arrow c.arrow --threshold 0.8             (three or more custodians: groups)
  blindlink dedup a.arrow --threshold 0.8                             (duplicates inside one file)
  blindlink link init|add|release --state DIR ...                     (incremental linkage, see link --help)

Exit codes: 0 success, 1 bad input (one-line message naming the file, line or field), 2 bad usage.`,
    );
  for (const command of [keygenCommand(), encodeCommand(), inspectCommand(), matchCommand(), dedupCommand(), linkCommand(), synthCommand(), evaluateCommand(), attackCommand(), psiCommand(), policyLabCommand(), demoCommand(), serveCommand(), luCommand(), auditCommand(), workerCommand()]) root.addCommand(command);
  return root;
}

async function main(): Promise<void> {
  // `blindlink inspect x | head -1` closes the pipe early; that is not an error worth a trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  const root = program();
  // Usage errors exit 2 (DESIGN.md); commander's default would be 1.
  // Nested too (psi blind|reblind|count, link init|add|release|status).
  const override = (command: Command): void => {
    command.exitOverride();
    for (const sub of command.commands) override(sub);
  };
  override(root);
  try {
    assertNoSecretArgument(process.argv.slice(2));
    assertNoTokenArgument(process.argv.slice(2));
    await root.parseAsync(process.argv);
  } catch (error) {
    reportError(error);
  }
}

await main();
