// `blindlink psi blind|reblind|count`: exact-token PSI-cardinality between two custodians over
// files, with no linkage unit. Each party uses its own key from `blindlink keygen`, read from
// --key-file (never from an argument), distinct from the shared CLK secret.
import { availableParallelism } from 'node:os';
import { Command, Option } from 'commander';
import { UserError } from '../errors.js';
import { assertWritable } from '../io/atomic-file.js';
import { checkDialect } from '../csv/index.js';
import { loadSchema } from '../schema/load.js';
import { readSecret } from '../secret.js';
import { loadGroup } from '../psi/group.js';
import { checkSession, makeHeader, PSI_ROLES, readMessage, writeMessage, type PsiRole } from '../psi/message.js';
import { blindOwnSet, intersectionSize, reblindOther, type PartyKey } from '../psi/protocol.js';
import { readTokenFile } from '../psi/tokens.js';
import { action, positiveInteger } from './run.js';

interface CommonFlags {
  keyFile: string;
  session: string;
  workers: number;
  json?: boolean;
}

async function partyKey(flags: CommonFlags): Promise<PartyKey> {
  checkSession(flags.session);
  // No environment fallback: BLINDLINK_SECRET is the shared CLK secret, which must never blind.
  const keyFileBytes = await readSecret(flags.keyFile, {});
  return { keyFileBytes, session: flags.session, workers: flags.workers };
}

function common(command: Command): Command {
  return command
    .requiredOption('--key-file <file>', "this party's own PSI key (blindlink keygen --out FILE); not the shared encoding secret")
    .requiredOption('--session <label>', 'a label both parties agreed on for this exchange, e.g. "2026-07 batch 3"; messages of other sessions are refused')
    .option('--workers <n>', 'worker threads for hashing and blinding', positiveInteger('--workers'), Math.max(1, availableParallelism()))
    .option('--json', 'print the summary as JSON');
}

function print(flags: CommonFlags, summary: Record<string, unknown>, text: string): void {
  process.stdout.write(flags.json ? `${JSON.stringify(summary)}\n` : `${text}\n`);
}

function blindCommand(): Command {
  return common(new Command('blind').description("step 1 (each party): hash this party's exact tokens onto the group, blind them with its key, shuffle"))
    .requiredOption('--schema <file>', 'linkage schema both parties use: its normalisers make the exact tokens')
    .requiredOption('--in <file>', "this party's records (CSV with a header row naming the schema's columns)")
    .addOption(new Option('--role <role>', 'requester (asks, and learns the count) or registry (answers)').choices(PSI_ROLES).makeOptionMandatory())
    .requiredOption('--out <file>', 'message to send to the other party')
    .option('--delimiter <char>', 'CSV field delimiter', ',')
    .option('--trim', 'strip spaces around unquoted CSV values')
    .action(
      action(async (flags: CommonFlags & { schema: string; in: string; role: PsiRole; out: string; delimiter: string; trim?: boolean }) => {
        const dialect = { delimiter: flags.delimiter === '\\t' ? '\t' : flags.delimiter, trim: flags.trim === true };
        checkDialect(dialect);
        const party = await partyKey(flags);
        await assertWritable(flags.out);
        const plan = await loadSchema(flags.schema);
        const set = await readTokenFile(flags.in, plan, dialect);
        await loadGroup();
        const elements = await blindOwnSet(party, plan.fingerprint, set.tokens);
        party.keyFileBytes.fill(0);
        await writeMessage(flags.out, makeHeader('blinded', flags.role, flags.session, plan.fingerprint, set.tokens.length), elements);
        const summary = { step: 'blinded', role: flags.role, session: flags.session, records: set.records, elements: set.tokens.length, duplicates: set.duplicates, empty: set.empty, out: flags.out };
        print(
          flags,
          summary,
          `wrote ${flags.out}: ${set.tokens.length} blinded tokens from ${set.records} records` +
            (set.duplicates + set.empty > 0 ? ` (${set.duplicates} duplicate and ${set.empty} empty records left out)` : '') +
            `\nsend it to the other party; it reveals the number of distinct tokens and nothing else`,
        );
      }),
    );
}

function reblindCommand(): Command {
  return common(new Command('reblind').description("step 2 (registry): blind the requester's message with this party's key and shuffle it"))
    .requiredOption('--in <file>', "the other party's step-1 message")
    .requiredOption('--out <file>', 'message to send back')
    .action(
      action(async (flags: CommonFlags & { in: string; out: string }) => {
        const party = await partyKey(flags);
        await assertWritable(flags.out);
        const message = await readMessage(flags.in);
        const { header } = message;
        if (header.step !== 'blinded') throw new UserError(`${flags.in}: is a ${header.step} message; reblind takes the other party's step-1 (blinded) message`);
        if (header.session !== flags.session) throw new UserError(`${flags.in}: belongs to session ${JSON.stringify(header.session)}, not ${JSON.stringify(flags.session)}`);
        await loadGroup();
        const elements = await reblindOther(party, header.schema, message.elements, flags.in);
        party.keyFileBytes.fill(0);
        await writeMessage(flags.out, makeHeader('reblinded', header.set, header.session, header.schema, header.count), elements);
        print(flags, { step: 'reblinded', set: header.set, session: header.session, elements: header.count, out: flags.out }, `wrote ${flags.out}: ${header.count} elements of the ${header.set}'s set, blinded by both parties and shuffled\nsend it back to the ${header.set}`);
      }),
    );
}

function countCommand(): Command {
  return common(new Command('count').description("step 3 (requester): blind the other party's set with this party's key and count the common elements"))
    .requiredOption('--reblinded <file>', "this party's own set as the other party sent it back (step 2)")
    .requiredOption('--other <file>', "the other party's step-1 message")
    .action(
      action(async (flags: CommonFlags & { reblinded: string; other: string }) => {
        const party = await partyKey(flags);
        const own = await readMessage(flags.reblinded);
        const other = await readMessage(flags.other);
        if (own.header.step !== 'reblinded') throw new UserError(`${flags.reblinded}: is a ${own.header.step} message; --reblinded takes your own set as the other party returned it (step 2)`);
        if (other.header.step !== 'blinded') throw new UserError(`${flags.other}: is a ${other.header.step} message; --other takes the other party's step-1 (blinded) message`);
        for (const message of [own, other]) {
          if (message.header.session !== flags.session) throw new UserError(`${message.path}: belongs to session ${JSON.stringify(message.header.session)}, not ${JSON.stringify(flags.session)}`);
        }
        if (own.header.set === other.header.set) throw new UserError(`${flags.other}: holds the ${other.header.set}'s set, the same party as ${flags.reblinded}; --other must be the other party's message`);
        if (own.header.schema !== other.header.schema) throw new UserError(`${flags.other}: was made with a different schema (fingerprint ${other.header.schema.slice(0, 12)}..., yours ${own.header.schema.slice(0, 12)}...); tokens would never match`);
        await loadGroup();
        const otherDoubly = await reblindOther(party, other.header.schema, other.elements, flags.other);
        party.keyFileBytes.fill(0);
        const shared = intersectionSize(own.elements, otherDoubly);
        print(
          flags,
          { step: 'count', session: flags.session, intersection: shared, ownElements: own.header.count, otherElements: other.header.count },
          `exact-token intersection: ${shared} (of your ${own.header.count} tokens and the other party's ${other.header.count})`,
        );
      }),
    );
}

export function psiCommand(): Command {
  return new Command('psi')
    .description('exact-token private set intersection cardinality between two parties, over files, with no linkage unit')
    .addCommand(blindCommand())
    .addCommand(reblindCommand())
    .addCommand(countCommand())
    .addHelpText(
      'after',
      `
Each party makes its own key once (NOT the shared encoding secret):
  blindlink keygen --out requester-psi.key          blindlink keygen --out registry-psi.key

Then, with the same schema and an agreed session label:
  requester: blindlink psi blind --role requester --key-file requester-psi.key --schema s.json --in requests.csv --session S --out req.psi
  registry:  blindlink psi blind --role registry  --key-file registry-psi.key  --schema s.json --in registry.csv --session S --out reg.psi
  registry:  blindlink psi reblind --key-file registry-psi.key --in req.psi --session S --out req2.psi
  requester: blindlink psi count --key-file requester-psi.key --reblinded req2.psi --other reg.psi --session S

What each party learns: the requester, the intersection size and the registry's set size; the
registry, the requester's set size. Tokens are exact (the schema's normalised fields joined), so a
record with a typo, a nickname or a new address does not count as common: use encode + match for a
fuzzy count. Semi-honest model: a party that lies about its set cannot be detected.`,
    );
}
