// `blindlink audit verify`: checks the service's hash-chained audit log straight from its store
// (the SQLite file in --data, or --database), naming the first broken entry.
import { Command } from 'commander';
import { describeVerdict, verifyStore } from '../audit/verify-store.js';
import { UserError } from '../errors.js';
import { action } from './run.js';

interface VerifyFlags {
  data: string;
  database?: string;
  project?: string;
  json?: boolean;
}

export function auditCommand(): Command {
  const audit = new Command('audit').description("the linkage-unit service's audit log").exitOverride();
  audit
    .command('verify')
    .description('verify every project\'s audit chain in a service store; exit 1 naming the first broken entry')
    .option('--data <dir>', 'the service\'s --data folder (its SQLite store)', 'blindlink-data')
    .option('--database <url>', 'the service\'s PostgreSQL store instead')
    .option('--project <id>', 'verify this project only')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Each entry's hash is SHA-256 over the previous entry's hash and the canonical JSON of the entry,
so a changed, removed or reordered entry breaks the chain from that entry on. A party's auditor
can verify a project's chain over the API too: blindlink lu audit.`,
    )
    .exitOverride()
    .action(
      action(async (flags: VerifyFlags) => {
        const { openStore } = await import('../service/store/open.js');
        const store = await openStore({ data: flags.data, database: flags.database, create: false });
        try {
          if (flags.project !== undefined && (await store.project(flags.project)) === null) throw new UserError(`no project ${flags.project} in this store`);
          const result = await verifyStore(store, flags.project);
          if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
          else {
            for (const { projectId, verdict } of result.projects) process.stdout.write(`${describeVerdict(projectId, verdict)}\n`);
            process.stdout.write(result.ok ? `audit log intact: ${result.projects.length} projects, ${result.entries} entries\n` : 'audit log BROKEN\n');
          }
          if (!result.ok) {
            const first = result.projects.find((p) => !p.verdict.ok)!;
            throw new UserError(`audit chain broken: ${describeVerdict(first.projectId, first.verdict)}`);
          }
        } finally {
          await store.close();
        }
      }),
    );
  return audit;
}
