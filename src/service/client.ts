// A small client for the linkage-unit service (Node's fetch), used by `blindlink lu` and the
// service demo: one method per endpoint, errors as ServiceError with the server's reasons.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { UserError } from '../errors.js';
import type { AuditEntry } from '../audit/chain.js';
import type { Json } from '../schema/json-checks.js';
import type { MetadataField, ReleaseMode, Role } from './policy.js';
import { ARROW_MEDIA_TYPE } from './routes.js';

/** A non-2xx answer: its status, the server's message and, for refusals, every reason. */
export class ServiceError extends UserError {
  constructor(readonly status: number, readonly code: string, message: string, readonly reasons: string[], readonly body: unknown) {
    super(reasons.length > 0 ? `${message}:\n  - ${reasons.join('\n  - ')}` : message);
  }
}

export interface UploadView {
  id: string;
  role: Role;
  status: 'accepted' | 'refused';
  reasons: string[];
  bytes: number;
  sha256: string;
  records: number | null;
  presenceFields: string[] | null;
  createdAt: string;
}

export interface RunView {
  id: string;
  status: 'refused' | 'queued' | 'running' | 'done' | 'failed';
  reasons: string[];
  mode: ReleaseMode;
  epsilon: number;
  upload: string | null;
  registryUpload: string | null;
  progress: number;
  progressMessage: string;
  createdAt: string;
  updatedAt: string;
}

export interface Ledger {
  recipient: string;
  registry: string;
  spent: number;
  budget: number | null;
  remaining: number | null;
}

export interface NewProject {
  name: string;
  registry: string;
  schemaFingerprint: string;
  schemaFields?: string[];
  policy: Json;
  parties: Record<Role, string>;
}

export class ServiceClient {
  private readonly base: string;

  constructor(server: string, private readonly token: string | null) {
    this.base = server.replace(/\/+$/, '');
  }

  /** One call; resolves to the parsed body of a 2xx answer, throws ServiceError otherwise. */
  async call<T>(method: 'GET' | 'POST', path: string, body?: Json): Promise<T> {
    return this.send<T>(method, path, body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  }

  private async send<T>(method: string, path: string, init: { body?: string | ReadableStream; headers?: Record<string, string>; duplex?: 'half' }): Promise<T> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.token !== null) headers.authorization = `Bearer ${this.token}`;
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, { method, ...init, headers } as RequestInit);
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new UserError(`cannot reach the linkage unit at ${this.base} (${cause})`);
    }
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    const parsed: unknown = type.includes('application/json') && text !== '' ? JSON.parse(text) : text;
    if (!response.ok) {
      const fields = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { error?: string; message?: string; reasons?: string[]; status?: string };
      const message = fields.message ?? (fields.status === 'refused' ? 'refused' : `HTTP ${response.status}`);
      throw new ServiceError(response.status, fields.error ?? fields.status ?? String(response.status), `${method} ${path}: ${response.status} ${message}`, fields.reasons ?? [], parsed);
    }
    return parsed as T;
  }

  createProject(project: NewProject): Promise<{ id: string; tokens: Record<Role, string> }> {
    return this.call('POST', '/projects', project as unknown as Json);
  }

  project(id: string): Promise<{ id: string; name: string; registry: string; policy: Json; parties: Record<Role, string>; you: Role }> {
    return this.call('GET', `/projects/${id}`);
  }

  /** Streams an encoded file; a refusal throws ServiceError with every reason. */
  async upload(project: string, file: string): Promise<UploadView> {
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      throw new UserError(`${file}: cannot read the file to upload`);
    }
    const body = Readable.toWeb(createReadStream(file)) as ReadableStream;
    return this.send('POST', `/projects/${project}/uploads`, { body, duplex: 'half', headers: { 'content-type': ARROW_MEDIA_TYPE, 'content-length': String(size) } });
  }

  uploads(project: string): Promise<{ uploads: UploadView[] }> {
    return this.call('GET', `/projects/${project}/uploads`);
  }

  requestRun(project: string, request: { upload: string; release: ReleaseMode; epsilon?: number; metadata: Partial<Record<MetadataField, string>> }): Promise<RunView> {
    return this.call('POST', `/projects/${project}/runs`, request as unknown as Json);
  }

  run(project: string, id: string): Promise<RunView> {
    return this.call('GET', `/projects/${project}/runs/${id}`);
  }

  runs(project: string): Promise<{ runs: RunView[] }> {
    return this.call('GET', `/projects/${project}/runs`);
  }

  /** Polls until the run is done or failed; `onProgress` sees each change. */
  async waitForRun(project: string, id: string, onProgress?: (run: RunView) => void, intervalMs = 200): Promise<RunView> {
    let last = '';
    for (;;) {
      const run = await this.run(project, id);
      const seen = `${run.status} ${run.progressMessage}`;
      if (seen !== last) onProgress?.(run);
      last = seen;
      if (run.status !== 'queued' && run.status !== 'running') return run;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }

  release(project: string, run: string): Promise<{ [key: string]: Json }> {
    return this.call('GET', `/projects/${project}/runs/${run}/release`);
  }

  pairs(project: string, run: string): Promise<string> {
    return this.call('GET', `/projects/${project}/runs/${run}/pairs`);
  }

  ledger(project: string): Promise<Ledger> {
    return this.call('GET', `/projects/${project}/ledger`);
  }

  audit(project: string): Promise<{ entries: AuditEntry[] }> {
    return this.call('GET', `/projects/${project}/audit`);
  }
}
