// `blindlink keygen --out FILE`: a fresh 256-bit shared secret for two custodians.
import { Command } from 'commander';
import { writeNewSecret } from '../secret.js';
import { action } from './run.js';

export function keygenCommand(): Command {
  return new Command('keygen')
    .description('write a new random 256-bit shared secret (hex, file mode 0600)')
    .requiredOption('--out <file>', 'where to write the secret; an existing file is never overwritten')
    .addHelpText(
      'after',
      `
Both custodians must encode with the same secret; share the file over a secure channel and
never with the linkage unit. The secret is never printed. For \`blindlink psi\`, each party makes
its own key the same way, in a separate file that it shares with nobody.

Example:
  blindlink keygen --out secret.key`,
    )
    .action(
      action(async (options: { out: string }) => {
        await writeNewSecret(options.out);
        process.stdout.write(`wrote a new secret to ${options.out} (mode 0600); give it only to the other custodian\n`);
      }),
    );
}
