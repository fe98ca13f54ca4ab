// The rows the linkage-unit service keeps, shared by both stores (SQLite and PostgreSQL).
import type { AuditDraft, AuditEntry } from '../../audit/chain.js';
import type { Json } from '../../schema/json-checks.js';
import type { ReleaseMode, Role } from '../policy.js';

export interface ProjectRecord {
  id: string;
  name: string;
  /** The registry custodian A holds, named so its privacy budget spans projects. */
  registry: string;
  schemaFingerprint: string;
  /** The schema's field names in order, when declared: presence columns must name exactly these. */
  schemaFields: string[] | null;
  /** The policy document as given (validated); compiled again when read. */
  policy: Json;
  createdAt: string;
}

export interface PartyRecord {
  projectId: string;
  role: Role;
  /** A name that spans projects (e.g. the agency), used for the privacy ledger. */
  name: string;
  tokenHash: string;
}

export type UploadStatus = 'accepted' | 'refused';

export interface UploadRecord {
  id: string;
  projectId: string;
  role: Role;
  status: UploadStatus;
  reasons: string[];
  /** On the service's disk, under --data; null when refused (the file is deleted). */
  path: string | null;
  bytes: number;
  sha256: string;
  records: number | null;
  filterBits: number | null;
  keyCheck: string | null;
  schemaFingerprint: string | null;
  presenceFields: string[] | null;
  createdAt: string;
}

export type RunStatus = 'refused' | 'queued' | 'running' | 'done' | 'failed';

export interface RunRecord {
  id: string;
  projectId: string;
  status: RunStatus;
  /** Every reason a refused request failed the policy; for a failed run, why it failed. */
  reasons: string[];
  mode: ReleaseMode;
  /** Spent on this release (noisy modes), in millionths; 0 for exact modes. */
  epsilonMicros: number;
  requestUpload: string | null;
  registryUpload: string | null;
  /** Recipient and registry names, for the ledger and the repeated-list rule. */
  recipient: string;
  registry: string;
  metadata: Json;
  /** 0..1 while running. */
  progress: number;
  progressMessage: string;
  release: Json | null;
  createdAt: string;
  updatedAt: string;
}

/** An epsilon spend checked against a lifetime budget, atomically with the run it pays for. */
export interface Spend {
  recipient: string;
  registry: string;
  epsilonMicros: number;
  budgetMicros: number;
}

export type AcceptOutcome = { accepted: true } | { accepted: false; spentMicros: number };

/**
 * What the service keeps, behind one interface with two implementations (SQLite by default,
 * PostgreSQL with --database). Every change that is audited is written in one transaction with
 * its audit entry, so the log never misses a change and never records one that did not happen.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  createProject(project: ProjectRecord, parties: PartyRecord[], audit: AuditDraft): Promise<void>;
  project(id: string): Promise<ProjectRecord | null>;
  projectIds(): Promise<string[]>;
  parties(projectId: string): Promise<PartyRecord[]>;
  addUpload(upload: UploadRecord, audit: AuditDraft): Promise<void>;
  upload(projectId: string, id: string): Promise<UploadRecord | null>;
  uploads(projectId: string): Promise<UploadRecord[]>;
  /** Records a request refused by the policy. */
  addRefusedRun(run: RunRecord, audit: AuditDraft): Promise<void>;
  /** Queues an accepted run, first spending its epsilon if any; refuses when the budget would be overspent. */
  acceptRun(run: RunRecord, spend: Spend | null, audit: AuditDraft): Promise<AcceptOutcome>;
  markRunning(projectId: string, id: string): Promise<void>;
  updateProgress(projectId: string, id: string, progress: number, message: string): Promise<void>;
  finishRun(projectId: string, id: string, outcome: { status: 'done'; release: Json } | { status: 'failed'; reason: string }, audit: AuditDraft): Promise<void>;
  run(projectId: string, id: string): Promise<RunRecord | null>;
  runs(projectId: string): Promise<RunRecord[]>;
  /** Runs in these states across projects (queued and running ones after a restart). */
  runsWithStatus(statuses: RunStatus[]): Promise<RunRecord[]>;
  /** Finished runs released to this recipient from this registry, oldest first, across projects. */
  releasedRuns(recipient: string, registry: string): Promise<RunRecord[]>;
  spentMicros(recipient: string, registry: string): Promise<number>;
  appendAudit(projectId: string, audit: AuditDraft): Promise<AuditEntry>;
  audit(projectId: string): Promise<AuditEntry[]>;
  /** The chain head the store keeps beside the entries (updated with each append), or null. */
  auditHead(projectId: string): Promise<{ seq: number; hash: string } | null>;
  close(): Promise<void>;
}
