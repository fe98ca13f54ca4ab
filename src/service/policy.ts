// The linkage unit's policy for one project (docs/SERVICE.md): what a request must carry, which
// release modes each role may read, and the differential-privacy budget. Validated like a
// linkage schema: the first problem is an error naming its JSON path.
import { readFile } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { array, integer, number, object, oneOf, onlyKeys, SchemaError, string, type Json } from '../schema/json-checks.js';

export const ROLES = ['custodian-a', 'custodian-b', 'recipient', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Release modes the service knows, as a list so a mode can be added (an overlap estimate with an
 * interval, for one) without changing the policy format. Noisy modes spend epsilon; exact ones
 * fall under the repeated-list rule.
 */
export const RELEASE_MODES = ['count', 'noisy-count', 'histogram', 'pairs'] as const;
export type ReleaseMode = (typeof RELEASE_MODES)[number];
export const NOISY_MODES: readonly ReleaseMode[] = ['noisy-count'];

export const METADATA_FIELDS = ['purpose', 'statutoryBasis', 'requestingOfficial'] as const;
export type MetadataField = (typeof METADATA_FIELDS)[number];

export interface Policy {
  match: { threshold: number; blocking: 'auto' | 'lsh' | 'none' };
  request: {
    /** Schema fields every record of a request list must have (checked on the presence column). */
    requiredFields: string[];
    requiredMetadata: MetadataField[];
    minRecords: number;
    maxRecords: number | null;
  };
  release: {
    /** For each role, the modes it may read; the recipient's list is also what may be requested. */
    modes: Record<Role, ReleaseMode[]>;
    /**
     * Exact releases (count, histogram, pairs) are refused for a list sharing more than this
     * fraction of its records with an earlier released list of the same recipient and registry.
     */
    maxOverlapWithEarlierLists: number | null;
  };
  privacy: { epsilonPerRelease: number; lifetimeBudget: number } | null;
}

/** Epsilon is kept in millionths so a ledger's sums are exact (0.1 ten times is exactly 1). */
export const MICROS = 1_000_000;

export function toMicros(epsilon: number): number {
  return Math.round(epsilon * MICROS);
}

function micros(value: Json | undefined, path: string, max: number): number {
  const epsilon = number(value, path, 0, max);
  if (epsilon <= 0) throw new SchemaError(path, 'must be greater than 0');
  if (Math.abs(toMicros(epsilon) - epsilon * MICROS) > 1e-6) throw new SchemaError(path, 'must be a multiple of 0.000001');
  return epsilon;
}

/** Validates a parsed policy document. */
export function compilePolicy(document: Json): Policy {
  const root = object(document, '$');
  onlyKeys(root, ['blindlinkPolicy', 'description', 'match', 'request', 'release', 'privacy'], '$');
  integer(root.blindlinkPolicy, '$.blindlinkPolicy', 1, 1);
  if (root.description !== undefined) string(root.description, '$.description');

  const matchSection = object(root.match, '$.match');
  onlyKeys(matchSection, ['threshold', 'blocking'], '$.match');
  const threshold = number(matchSection.threshold, '$.match.threshold', 0, 1);
  if (threshold <= 0) throw new SchemaError('$.match.threshold', 'must be greater than 0');
  const blocking = matchSection.blocking === undefined ? 'auto' : oneOf(matchSection.blocking, '$.match.blocking', ['auto', 'lsh', 'none'] as const);

  const requestSection = object(root.request ?? {}, '$.request');
  onlyKeys(requestSection, ['requiredFields', 'requiredMetadata', 'minRecords', 'maxRecords'], '$.request');
  const requiredFields = array(requestSection.requiredFields ?? [], '$.request.requiredFields').map((value, i) => {
    const name = string(value, `$.request.requiredFields[${i}]`);
    if (name.length === 0) throw new SchemaError(`$.request.requiredFields[${i}]`, 'must not be empty');
    return name;
  });
  const requiredMetadata = array(requestSection.requiredMetadata ?? [...METADATA_FIELDS], '$.request.requiredMetadata').map((value, i) =>
    oneOf(value, `$.request.requiredMetadata[${i}]`, METADATA_FIELDS),
  );
  const minRecords = requestSection.minRecords === undefined ? 1 : integer(requestSection.minRecords, '$.request.minRecords', 1, 1e9);
  const maxRecords = requestSection.maxRecords === undefined ? null : integer(requestSection.maxRecords, '$.request.maxRecords', minRecords, 1e9);

  const releaseSection = object(root.release, '$.release');
  onlyKeys(releaseSection, ['modes', 'maxOverlapWithEarlierLists'], '$.release');
  const modeSection = object(releaseSection.modes, '$.release.modes');
  onlyKeys(modeSection, ROLES, '$.release.modes');
  const modes = Object.fromEntries(
    ROLES.map((role) => {
      const list = array(modeSection[role] ?? [], `$.release.modes.${role}`).map((value, i) => oneOf(value, `$.release.modes.${role}[${i}]`, RELEASE_MODES));
      return [role, [...new Set(list)]];
    }),
  ) as Record<Role, ReleaseMode[]>;
  if (modes.recipient.length === 0) throw new SchemaError('$.release.modes.recipient', 'must allow at least one release mode');
  const everyMode = ROLES.flatMap((role) => modes[role]);
  const exact = everyMode.filter((mode) => !NOISY_MODES.includes(mode));
  let maxOverlap: number | null = null;
  if (releaseSection.maxOverlapWithEarlierLists !== undefined) {
    maxOverlap = number(releaseSection.maxOverlapWithEarlierLists, '$.release.maxOverlapWithEarlierLists', 0, 1);
  } else if (exact.length > 0) {
    // Exact counts on overlapping lists can be differenced (a list, then the list plus one person):
    // a policy allowing them must say how much overlap it tolerates.
    throw new SchemaError('$.release.maxOverlapWithEarlierLists', `is required when an exact release mode is allowed (${[...new Set(exact)].join(', ')})`);
  }

  let privacy: Policy['privacy'] = null;
  if (root.privacy !== undefined) {
    const section = object(root.privacy, '$.privacy');
    onlyKeys(section, ['epsilonPerRelease', 'lifetimeBudget'], '$.privacy');
    const epsilonPerRelease = micros(section.epsilonPerRelease, '$.privacy.epsilonPerRelease', 100);
    const lifetimeBudget = micros(section.lifetimeBudget, '$.privacy.lifetimeBudget', 1e6);
    if (lifetimeBudget < epsilonPerRelease) throw new SchemaError('$.privacy.lifetimeBudget', 'must be at least epsilonPerRelease');
    privacy = { epsilonPerRelease, lifetimeBudget };
  } else if (everyMode.some((mode) => NOISY_MODES.includes(mode))) {
    throw new SchemaError('$.privacy', 'is required when a noisy release mode is allowed (epsilonPerRelease and lifetimeBudget)');
  }
  return {
    match: { threshold, blocking },
    request: { requiredFields, requiredMetadata, minRecords, maxRecords },
    release: { modes, maxOverlapWithEarlierLists: maxOverlap },
    privacy,
  };
}

/** Reads and validates a policy file; errors name the file and the JSON path. */
export async function loadPolicy(path: string): Promise<{ policy: Policy; document: Json }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(`${path}: cannot read policy (${code === 'ENOENT' ? 'no such file' : code})`);
  }
  let document: Json;
  try {
    document = JSON.parse(text) as Json;
  } catch {
    throw new UserError(`${path}: not valid JSON`);
  }
  try {
    return { policy: compilePolicy(document), document };
  } catch (error) {
    if (error instanceof SchemaError) throw new UserError(`${path}: ${error.message}`);
    throw error;
  }
}

