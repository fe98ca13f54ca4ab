// Runs accepted requests one at a time on the worker pool (match/match-files.ts, in process),
// publishing progress to the store; the release is stored in the same transaction that marks the
// run done, so a crash leaves a run queued or running, never a partial result. After a restart a
// run that was running is marked failed and a queued one is resumed.
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { UserError } from '../errors.js';
import { matchFiles } from '../match/match-files.js';
import type { MatchReport } from '../reveal/release.js';
import { canonicalJson, type Json } from '../schema/json-checks.js';
import { compilePolicy, MICROS } from './policy.js';
import type { RunRecord, Store } from './store/records.js';
import { withoutPath } from './upload-file.js';

export const INTERRUPTED = 'the linkage unit stopped during the run; nothing was released';

/** What the recipient reads: the mode's release and the sizes the LU knows anyway, no paths, no comparison counts. */
export function releaseOf(run: RunRecord, report: MatchReport, pairs: number | null): Json {
  const release: { [key: string]: Json } = {
    run: run.id,
    mode: run.mode,
    threshold: report.threshold,
    records: { list: report.inputs.a.records, registry: report.inputs.b.records },
    count: report.count,
  };
  if (report.reveal === 'noisy-count') {
    release.epsilon = report.epsilon;
    release.mechanism = report.mechanism;
  }
  if (report.histogram !== undefined) release.histogram = report.histogram as unknown as Json;
  if (pairs !== null) release.pairs = pairs;
  return release;
}

export interface RunnerOptions {
  store: Store;
  dataDir: string;
  workers: number;
  log: (message: string) => void;
}

export class RunQueue {
  private readonly pending: RunRecord[] = [];
  private running: Promise<void> | null = null;

  constructor(private readonly options: RunnerOptions) {}

  pairsPath(run: { id: string }): string {
    return join(this.options.dataDir, 'runs', `${run.id}.pairs.csv`);
  }

  enqueue(run: RunRecord): void {
    this.pending.push(run);
    this.running ??= this.drain();
  }

  get busy(): boolean {
    return this.running !== null;
  }

  /** Resolves when nothing is queued or running. */
  async idle(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  /** After a start: fail what was interrupted, resume what never started. */
  async recover(): Promise<void> {
    for (const run of await this.options.store.runsWithStatus(['running', 'queued'])) {
      if (run.status === 'running') {
        await unlink(this.pairsPath(run)).catch(() => undefined);
        await this.options.store.finishRun(run.projectId, run.id, { status: 'failed', reason: INTERRUPTED }, { kind: 'run.failed', actor: 'service', data: { run: run.id, reason: INTERRUPTED } });
        this.options.log(`run ${run.id} was interrupted by a stop and is marked failed`);
      } else {
        this.enqueue(run);
        this.options.log(`run ${run.id} resumed from the queue`);
      }
    }
  }

  private async drain(): Promise<void> {
    try {
      for (let run = this.pending.shift(); run !== undefined; run = this.pending.shift()) await this.execute(run);
    } finally {
      this.running = null;
    }
  }

  private async execute(run: RunRecord): Promise<void> {
    const { store } = this.options;
    const paths = new Map<string, string>();
    try {
      const project = await store.project(run.projectId);
      const list = run.requestUpload === null ? null : await store.upload(run.projectId, run.requestUpload);
      const registry = run.registryUpload === null ? null : await store.upload(run.projectId, run.registryUpload);
      if (project === null || list?.path == null || registry?.path == null) throw new UserError('the run lost its project or uploads');
      paths.set(list.path, `upload ${list.id}`);
      paths.set(registry.path, `upload ${registry.id}`);
      const policy = compilePolicy(project.policy);
      await store.markRunning(run.projectId, run.id);
      let last = -1;
      const report = await matchFiles({
        a: list.path,
        b: registry.path,
        threshold: policy.match.threshold,
        reveal: run.mode,
        epsilon: run.epsilonMicros > 0 ? run.epsilonMicros / MICROS : null,
        out: run.mode === 'pairs' ? this.pairsPath(run) : undefined,
        workers: this.options.workers,
        blocking: policy.match.blocking,
        warn: () => undefined,
        progress: (message) => {
          const percent = /(\d+)%/.exec(message);
          const value = percent === null ? last : Number(percent[1]);
          if (value === last) return;
          last = value;
          store.updateProgress(run.projectId, run.id, Math.max(0, value) / 100, message).catch(() => undefined);
        },
      });
      const release = releaseOf(run, report, run.mode === 'pairs' ? report.count : null);
      const released: Json = { mode: run.mode, count: report.count, ...(run.epsilonMicros > 0 ? { epsilon: run.epsilonMicros / MICROS } : {}) };
      await store.finishRun(run.projectId, run.id, { status: 'done', release }, {
        kind: 'run.done',
        actor: 'service',
        data: { run: run.id, released, epsilonSpent: run.epsilonMicros / MICROS, releaseSha256: bytesToHex(sha256(utf8ToBytes(canonicalJson(release)))) },
      });
    } catch (error) {
      let reason = error instanceof UserError ? error.message : 'internal error (see the server log)';
      for (const [path, name] of paths) reason = withoutPath(reason, path, name);
      if (!(error instanceof UserError)) this.options.log(`run ${run.id} failed: ${(error as Error).stack ?? String(error)}`);
      await unlink(this.pairsPath(run)).catch(() => undefined);
      await store.finishRun(run.projectId, run.id, { status: 'failed', reason }, { kind: 'run.failed', actor: 'service', data: { run: run.id, reason } });
    }
  }
}
