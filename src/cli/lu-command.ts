// `blindlink lu ...`: the parties' client for the linkage-unit service, so custodians, the
// recipient and the auditor never need curl. Tokens come from --token-file or BLINDLINK_TOKEN,
// never from the command line.
import { existsSync } from 'node:fs';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { verifyChain } from '../audit/chain.js';
import { describeVerdict } from '../audit/verify-store.js';
import { UserError } from '../errors.js';
import { writeAtomically } from '../io/atomic-file.js';
import { loadSchema } from '../schema/load.js';
import type { Json } from '../schema/json-checks.js';
import { ServiceClient, type RunView, type UploadView } from '../service/client.js';
import { loadPolicy, RELEASE_MODES, ROLES, type ReleaseMode, type Role } from '../service/policy.js';
import { action, numberIn } from './run.js';

export const TOKEN_ENV = 'BLINDLINK_TOKEN';
export const SERVER_ENV = 'BLINDLINK_SERVER';
export const PROJECT_ENV = 'BLINDLINK_PROJECT';

/** Tokens, like secrets, never come from argv: every user of the machine can read process arguments. */
export function assertNoTokenArgument(argv: readonly string[]): void {
  if (argv.some((arg) => /^--(admin-)?token(=|$)/.test(arg))) {
    throw new UserError(`tokens are never accepted on the command line (other users can see process arguments); use --token-file FILE or ${TOKEN_ENV}`, 2);
  }
}

interface ConnectionFlags {
  server?: string;
  project?: string;
  tokenFile?: string;
  json?: boolean;
}

async function tokenOf(flags: ConnectionFlags): Promise<string> {
  if (flags.tokenFile !== undefined) {
    try {
      const token = (await readFile(flags.tokenFile, 'utf8')).trim();
      if (token === '') throw new Error('empty');
      return token;
    } catch {
      throw new UserError(`${flags.tokenFile}: cannot read a token`);
    }
  }
  const token = process.env[TOKEN_ENV]?.trim();
  if (token) return token;
  throw new UserError(`no token: give --token-file FILE or set ${TOKEN_ENV}`, 2);
}

async function connect(flags: ConnectionFlags): Promise<ServiceClient> {
  const server = flags.server ?? process.env[SERVER_ENV];
  if (server === undefined) throw new UserError(`no server: give --server URL or set ${SERVER_ENV}`, 2);
  return new ServiceClient(server, await tokenOf(flags));
}

function projectOf(flags: ConnectionFlags): string {
  const project = flags.project ?? process.env[PROJECT_ENV];
  if (project === undefined) throw new UserError(`no project: give --project ID or set ${PROJECT_ENV}`, 2);
  return project;
}

/** A subcommand with the connection options every call needs. */
function call(name: string, description: string, withProject = true): Command {
  const command = new Command(name)
    .description(description)
    .option('--server <url>', `the linkage unit's address (or set ${SERVER_ENV})`)
    .option('--token-file <file>', `file holding your party token (or set ${TOKEN_ENV})`)
    .option('--json', 'print the answer as JSON')
    .exitOverride();
  if (withProject) command.option('--project <id>', `project id (or set ${PROJECT_ENV})`);
  return command;
}

const out = (line: string) => process.stdout.write(`${line}\n`);

function printUpload(upload: UploadView): void {
  out(`upload ${upload.id}: ${upload.status}${upload.records === null ? '' : `, ${upload.records.toLocaleString('en-US')} records`}, ${upload.bytes.toLocaleString('en-US')} bytes`);
  if (upload.presenceFields) out(`  field presence recorded for: ${upload.presenceFields.join(', ')}`);
  for (const reason of upload.reasons) out(`  - ${reason}`);
}

function printRun(run: RunView): void {
  const progress = run.status === 'running' ? ` (${Math.round(run.progress * 100)}%${run.progressMessage ? `: ${run.progressMessage}` : ''})` : '';
  out(`run ${run.id}: ${run.status}${progress}, release ${run.mode}${run.epsilon > 0 ? `, epsilon ${run.epsilon}` : ''}`);
  for (const reason of run.reasons) out(`  - ${reason}`);
}

function partyNames(values: string[]): Record<Role, string> {
  const names: Partial<Record<Role, string>> = {};
  for (const value of values) {
    const [role, ...rest] = value.split('=');
    if (!(ROLES as readonly string[]).includes(role) || rest.join('=') === '') throw new UserError(`--party must be ROLE=NAME with ROLE one of ${ROLES.join(', ')}, got ${JSON.stringify(value)}`, 2);
    names[role as Role] = rest.join('=');
  }
  const missing = ROLES.filter((role) => names[role] === undefined);
  if (missing.length > 0) throw new UserError(`--party is missing for ${missing.join(', ')}`, 2);
  return names as Record<Role, string>;
}

function projectCommand(): Command {
  const project = new Command('project').description('create or show a project').exitOverride();
  project.addCommand(
    call('create', "create a project (operator's admin token); writes each party's token to --tokens-dir", false)
      .requiredOption('--name <name>', 'project name')
      .requiredOption('--registry <name>', "the registry custodian A holds; the recipient's privacy budget on it spans projects")
      .requiredOption('--schema <file>', 'the linkage schema both custodians encode with (its fingerprint and field names are sent, nothing else)')
      .requiredOption('--policy <file>', 'the policy file (docs/SERVICE.md)')
      .requiredOption('--party <role=name...>', `each role's party name: ${ROLES.map((r) => `${r}=NAME`).join(' ')}`)
      .requiredOption('--tokens-dir <dir>', 'folder for the four token files (ROLE.token, mode 0600); tokens are shown only once')
      .action(
        action(async (flags: ConnectionFlags & { name: string; registry: string; schema: string; policy: string; party: string[]; tokensDir: string }) => {
          const plan = await loadSchema(flags.schema);
          const { document } = await loadPolicy(flags.policy);
          const client = await connect(flags);
          // Checked first: tokens are shown once, so a project whose token files cannot be written is lost.
          const taken = ROLES.map((role) => join(flags.tokensDir, `${role}.token`)).filter((file) => existsSync(file));
          if (taken.length > 0) throw new UserError(`${taken[0]}: already exists; give --tokens-dir an empty folder`);
          const created = await client.createProject({
            name: flags.name,
            registry: flags.registry,
            schemaFingerprint: plan.fingerprint,
            schemaFields: plan.fields.map((field) => field.name),
            policy: document,
            parties: partyNames(flags.party),
          });
          await mkdir(flags.tokensDir, { recursive: true });
          const files: Record<string, string> = {};
          for (const role of ROLES) {
            const file = join(flags.tokensDir, `${role}.token`);
            try {
              await writeFile(file, `${created.tokens[role]}\n`, { flag: 'wx', mode: 0o600 });
            } catch {
              throw new UserError(`${file}: cannot write the token (exists already?); project ${created.id} was created, its tokens are lost: create another`);
            }
            files[role] = file;
          }
          if (flags.json) out(JSON.stringify({ id: created.id, tokenFiles: files }));
          else {
            out(`project ${created.id} created`);
            for (const role of ROLES) out(`  ${role.padEnd(12)} token in ${files[role]} (hand it to that party only)`);
          }
        }),
      ),
  );
  project.addCommand(
    call('show', 'show the project, its policy and parties').action(
      action(async (flags: ConnectionFlags) => {
        const shown = await (await connect(flags)).project(projectOf(flags));
        out(flags.json ? JSON.stringify(shown) : JSON.stringify(shown, null, 2));
      }),
    ),
  );
  return project;
}

export function luCommand(): Command {
  const lu = new Command('lu')
    .description('use a linkage-unit service (blindlink serve): projects, uploads, requests, releases, ledger, audit')
    .exitOverride()
    .addHelpText(
      'after',
      `
Every call needs --server (or ${SERVER_ENV}) and a party token in --token-file (or ${TOKEN_ENV});
calls on a project need --project (or ${PROJECT_ENV}). Tokens are never accepted on the command line.

Typical use:
  blindlink lu project create --token-file admin.token --name N --registry irs --schema s.json \\
      --policy policy.json --party custodian-a=IRS --party custodian-b=ICE --party recipient=ICE \\
      --party auditor=TIGTA --tokens-dir tokens/
  blindlink lu upload registry.arrow --token-file tokens/custodian-a.token       (custodian A)
  blindlink lu upload requests.arrow --token-file tokens/custodian-b.token       (custodian B)
  blindlink lu request --upload upl_... --release noisy-count --purpose ... --statutory-basis ... \\
      --requesting-official ... --wait --token-file tokens/custodian-b.token
  blindlink lu release run_... --token-file tokens/recipient.token               (the recipient)
  blindlink lu audit --token-file tokens/auditor.token                           (verifies the chain)`,
    );
  lu.addCommand(projectCommand());
  lu.addCommand(
    call('upload', 'upload an encoded .arrow file; prints its status or every reason it was refused')
      .argument('<file>', 'encoded file (blindlink encode; request lists with --record-presence when the policy requires identifiers)')
      .action(
        action(async (file: string, flags: ConnectionFlags) => {
          const upload = await (await connect(flags)).upload(projectOf(flags), file);
          if (flags.json) out(JSON.stringify(upload));
          else printUpload(upload);
        }),
      ),
  );
  lu.addCommand(
    call('uploads', 'list your uploads and their status').action(
      action(async (flags: ConnectionFlags) => {
        const { uploads } = await (await connect(flags)).uploads(projectOf(flags));
        if (flags.json) out(JSON.stringify({ uploads }));
        else uploads.forEach(printUpload);
      }),
    ),
  );
  lu.addCommand(
    call('request', 'ask for a run on an uploaded list (custodian B); refused with every reason it fails the policy')
      .requiredOption('--upload <id>', 'your accepted upload of the list')
      .addOption(new Option('--release <mode>', 'release mode for the recipient').choices([...RELEASE_MODES]).makeOptionMandatory())
      .option('--epsilon <e>', "epsilon for a noisy release (default: the policy's per-release epsilon)")
      .option('--purpose <text>', 'purpose of the request')
      .option('--statutory-basis <text>', 'statutory basis')
      .option('--requesting-official <text>', 'requesting official')
      .option('--wait', 'wait for the run to finish, printing progress')
      .action(
        action(async (flags: ConnectionFlags & { upload: string; release: ReleaseMode; epsilon?: string; purpose?: string; statutoryBasis?: string; requestingOfficial?: string; wait?: boolean }) => {
          const client = await connect(flags);
          const project = projectOf(flags);
          const metadata: Record<string, string> = {};
          if (flags.purpose !== undefined) metadata.purpose = flags.purpose;
          if (flags.statutoryBasis !== undefined) metadata.statutoryBasis = flags.statutoryBasis;
          if (flags.requestingOfficial !== undefined) metadata.requestingOfficial = flags.requestingOfficial;
          const epsilon = flags.epsilon === undefined ? undefined : numberIn('--epsilon', flags.epsilon, (e) => e > 0, 'a positive number');
          let run = await client.requestRun(project, { upload: flags.upload, release: flags.release, ...(epsilon === undefined ? {} : { epsilon }), metadata });
          if (!flags.json) printRun(run);
          if (flags.wait) {
            // Progress goes to stderr, and only to a terminal (like every command's progress).
            const progress = process.stderr.isTTY
              ? (r: RunView) => process.stderr.write(`\r${r.status} ${Math.round(r.progress * 100)}% ${r.progressMessage}\u001b[K`)
              : undefined;
            run = await client.waitForRun(project, run.id, progress);
            if (process.stderr.isTTY) process.stderr.write('\r\u001b[K');
            if (!flags.json) printRun(run);
          }
          if (flags.json) out(JSON.stringify(run));
          if (run.status === 'failed') throw new UserError(`run ${run.id} failed: ${run.reasons.join('; ')}`);
        }),
      ),
  );
  lu.addCommand(
    call('runs', 'list runs and refused requests').action(
      action(async (flags: ConnectionFlags) => {
        const { runs } = await (await connect(flags)).runs(projectOf(flags));
        if (flags.json) out(JSON.stringify({ runs }));
        else runs.forEach(printRun);
      }),
    ),
  );
  lu.addCommand(
    call('run', "one run's status and progress")
      .argument('<run>', 'run id')
      .option('--wait', 'wait until it is done or failed')
      .action(
        action(async (id: string, flags: ConnectionFlags & { wait?: boolean }) => {
          const client = await connect(flags);
          const run = flags.wait ? await client.waitForRun(projectOf(flags), id) : await client.run(projectOf(flags), id);
          if (flags.json) out(JSON.stringify(run));
          else printRun(run);
        }),
      ),
  );
  lu.addCommand(
    call('release', "read a run's release (the recipient, or a role the policy allows its mode)")
      .argument('<run>', 'run id')
      .option('--pairs-out <file>', 'for a pairs release: write the pairs CSV here')
      .action(
        action(async (id: string, flags: ConnectionFlags & { pairsOut?: string }) => {
          const client = await connect(flags);
          const release = await client.release(projectOf(flags), id);
          if (flags.pairsOut !== undefined) {
            const csv = await client.pairs(projectOf(flags), id);
            await writeAtomically(flags.pairsOut, async (stream) => {
              stream.write(csv);
            });
          }
          if (flags.json) out(JSON.stringify(release));
          else {
            out(`run ${id}: ${String(release.mode)} release, threshold ${String(release.threshold)}`);
            out(`  ${release.mode === 'noisy-count' ? 'noisy count' : 'matched records (1:1)'}: ${String(release.count)}`);
            if (release.epsilon !== undefined) out(`  epsilon ${String(release.epsilon)}, ${String(release.mechanism)}`);
            const records = release.records as { list: number; registry: number };
            out(`  inputs: list ${records.list} records, registry ${records.registry} records`);
            if (flags.pairsOut !== undefined) out(`  pairs written to ${flags.pairsOut}`);
          }
        }),
      ),
  );
  lu.addCommand(
    call('ledger', "epsilon spent and left for the project's recipient on its registry").action(
      action(async (flags: ConnectionFlags) => {
        const ledger = await (await connect(flags)).ledger(projectOf(flags));
        if (flags.json) out(JSON.stringify(ledger));
        else out(`recipient "${ledger.recipient}" on registry "${ledger.registry}": epsilon ${ledger.spent} spent${ledger.budget === null ? ' (no budget: the policy allows no noisy release)' : ` of ${ledger.budget}, ${ledger.remaining} left`}`);
      }),
    ),
  );
  lu.addCommand(
    call('audit', "fetch the project's audit log (the auditor) and verify its hash chain here, independently of the server")
      .option('--out <file>', 'also save the entries as JSON')
      .action(
        action(async (flags: ConnectionFlags & { out?: string }) => {
          const project = projectOf(flags);
          const { entries } = await (await connect(flags)).audit(project);
          const verdict = verifyChain(project, entries);
          if (flags.out !== undefined) {
            await writeAtomically(flags.out, async (stream) => {
              stream.write(`${JSON.stringify(entries as unknown as Json, null, 2)}\n`);
            });
          }
          if (flags.json) out(JSON.stringify({ verdict, entries: entries.length }));
          else {
            for (const entry of entries) out(`  #${entry.seq} ${entry.at} ${entry.kind} by ${entry.actor}`);
            out(describeVerdict(project, verdict));
          }
          if (!verdict.ok) throw new UserError(`audit chain broken: ${describeVerdict(project, verdict)}`);
        }),
      ),
  );
  return lu;
}
