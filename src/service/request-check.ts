// Decides whether a request may run, collecting EVERY reason it fails the policy (a requester
// told one reason at a time learns the policy by trial): metadata, list size, required
// identifiers (from the presence column), release mode, epsilon and budget, and the
// repeated-list rule that stops differencing of exact counts (docs/SERVICE.md).
import { UserError } from '../errors.js';
import { readEncodedFile } from '../io/encoded-file.js';
import { matchFiles } from '../match/match-files.js';
import { isPresent, presenceBytes } from '../presence.js';
import { MICROS, NOISY_MODES, toMicros, type MetadataField, type Policy, type ReleaseMode } from './policy.js';
import type { ProjectRecord, Store, UploadRecord } from './store/records.js';

export interface RunRequest {
  upload: string;
  release: ReleaseMode;
  epsilon?: number;
  metadata: Partial<Record<MetadataField, string>>;
}

export interface RequestVerdict {
  reasons: string[];
  epsilonMicros: number;
  requestUpload: UploadRecord | null;
  registryUpload: UploadRecord | null;
}

const METADATA_LABELS: Record<MetadataField, string> = {
  purpose: 'the purpose of the request',
  statutoryBasis: 'the statutory basis for it',
  requestingOfficial: 'the requesting official',
};

const formatEpsilon = (micros: number): string => String(micros / MICROS);

export interface CheckContext {
  store: Store;
  project: ProjectRecord;
  policy: Policy;
  recipient: string;
  workers: number;
}

export async function checkRequest(context: CheckContext, request: RunRequest): Promise<RequestVerdict> {
  const { store, project, policy } = context;
  const reasons: string[] = [];

  for (const field of policy.request.requiredMetadata) {
    if ((request.metadata[field] ?? '').trim() === '') reasons.push(`metadata.${field} is missing: the policy requires ${METADATA_LABELS[field]}`);
  }

  const allowed = policy.release.modes.recipient;
  if (!allowed.includes(request.release)) reasons.push(`release mode "${request.release}" is not allowed for the recipient (the policy allows: ${allowed.join(', ')})`);

  const noisy = NOISY_MODES.includes(request.release);
  let epsilonMicros = 0;
  if (noisy && policy.privacy !== null) {
    epsilonMicros = toMicros(request.epsilon ?? policy.privacy.epsilonPerRelease);
    const perRelease = toMicros(policy.privacy.epsilonPerRelease);
    if (epsilonMicros > perRelease) reasons.push(`epsilon ${formatEpsilon(epsilonMicros)} exceeds the policy's ${formatEpsilon(perRelease)} per release`);
    const spent = await store.spentMicros(context.recipient, project.registry);
    const budget = toMicros(policy.privacy.lifetimeBudget);
    if (spent + epsilonMicros > budget) reasons.push(budgetReason(context.recipient, project.registry, spent, budget, epsilonMicros));
  } else if (!noisy && request.epsilon !== undefined) {
    reasons.push(`epsilon applies only to noisy release modes (${NOISY_MODES.join(', ')}), not "${request.release}"`);
  }

  const uploads = await store.uploads(project.id);
  const requestUpload = uploads.find((u) => u.id === request.upload && u.role === 'custodian-b') ?? null;
  const registryUpload = uploads.filter((u) => u.role === 'custodian-a' && u.status === 'accepted').at(-1) ?? null;
  if (requestUpload === null) reasons.push(`upload ${request.upload} is not an upload of custodian B in this project`);
  else if (requestUpload.status !== 'accepted') reasons.push(`upload ${request.upload} was refused on arrival`);
  if (registryUpload === null) reasons.push('custodian A has not uploaded the registry yet');
  const usable = requestUpload !== null && requestUpload.status === 'accepted' && requestUpload.path !== null;

  if (usable) {
    const records = requestUpload.records ?? 0;
    if (records < policy.request.minRecords) reasons.push(`the list has ${records} records; the policy requires at least ${policy.request.minRecords}`);
    if (policy.request.maxRecords !== null && records > policy.request.maxRecords) reasons.push(`the list has ${records} records; the policy allows at most ${policy.request.maxRecords}`);
    reasons.push(...(await identifierReasons(requestUpload, policy.request.requiredFields)));
    if (registryUpload !== null && registryUpload.keyCheck !== requestUpload.keyCheck) {
      reasons.push(`the list and the registry (upload ${registryUpload.id}) were encoded with different secrets`);
    }
  }

  const limit = policy.release.maxOverlapWithEarlierLists;
  if (usable && !noisy && limit !== null) {
    const overlap = await largestOverlap(context, requestUpload);
    if (overlap !== null && overlap.fraction > limit) {
      reasons.push(
        `the list shares ${(100 * overlap.fraction).toFixed(1)}% of its records with list ${overlap.upload} released to recipient "${context.recipient}" (run ${overlap.run}); ` +
          `the policy refuses exact releases above ${(100 * limit).toFixed(1)}%, since two exact counts on nearly the same list tell whether the people that differ are in the registry`,
      );
    }
  }
  return { reasons, epsilonMicros, requestUpload, registryUpload };
}

export function budgetReason(recipient: string, registry: string, spentMicros: number, budgetMicros: number, needMicros: number): string {
  return (
    `the privacy budget of recipient "${recipient}" for registry "${registry}" would be overspent: ` +
    `${formatEpsilon(spentMicros)} of ${formatEpsilon(budgetMicros)} already spent, this release needs ${formatEpsilon(needMicros)}`
  );
}

/** Counts, per required field, the records whose presence bit is clear. */
async function identifierReasons(upload: UploadRecord, required: readonly string[]): Promise<string[]> {
  if (required.length === 0) return [];
  const fields = upload.presenceFields;
  if (fields === null) {
    return [`the list carries no field-presence column, so the required identifiers (${required.join(', ')}) cannot be checked (encode it with --record-presence)`];
  }
  const unknown = required.filter((name) => !fields.includes(name));
  if (unknown.length > 0) return unknown.map((name) => `required identifier "${name}" is not a field of the list's schema (${fields.join(', ')})`);
  const file = await readEncodedFile(upload.path as string);
  const bitmasks = file.presence as Uint8Array;
  const width = presenceBytes(fields.length);
  const indices = required.map((name) => fields.indexOf(name));
  const lacking = new Array<number>(required.length).fill(0);
  let deficient = 0;
  for (let row = 0; row < file.count; row++) {
    let ok = true;
    indices.forEach((field, i) => {
      if (!isPresent(bitmasks, width, row, field)) {
        lacking[i]++;
        ok = false;
      }
    });
    if (!ok) deficient++;
  }
  if (deficient === 0) return [];
  const detail = required.map((name, i) => `${name}: ${lacking[i]}`).filter((_, i) => lacking[i] > 0).join(', ');
  return [`${deficient} of ${file.count} records lack a required identifier (${detail}); the policy requires ${required.join(', ')} for every record`];
}

/**
 * The largest share of records the list has in common with an earlier list released to the same
 * recipient from the same registry (any project): the matcher's own 1:1 count at the policy's
 * threshold, over the smaller list, so a copy with a few typos counts as the same list.
 */
async function largestOverlap(context: CheckContext, upload: UploadRecord): Promise<{ fraction: number; upload: string; run: string } | null> {
  let largest: { fraction: number; upload: string; run: string } | null = null;
  for (const earlier of await context.store.releasedRuns(context.recipient, context.project.registry)) {
    if (earlier.requestUpload === null) continue;
    const list = await context.store.upload(earlier.projectId, earlier.requestUpload);
    if (list === null || list.path === null || list.records === null || upload.records === null) continue;
    if (list.keyCheck !== upload.keyCheck) continue;
    let shared: number;
    try {
      const report = await matchFiles({
        a: upload.path as string,
        b: list.path,
        threshold: context.policy.match.threshold,
        reveal: 'count',
        epsilon: null,
        workers: context.workers,
        blocking: context.policy.match.blocking,
        warn: () => undefined,
      });
      shared = report.count;
    } catch (error) {
      // Lists that cannot be compared (another schema) share nothing the matcher could count.
      if (error instanceof UserError) continue;
      throw error;
    }
    const fraction = shared / Math.max(1, Math.min(upload.records, list.records));
    if (largest === null || fraction > largest.fraction) largest = { fraction, upload: list.id, run: earlier.id };
  }
  return largest;
}
