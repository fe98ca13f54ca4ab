// The linkage unit as an HTTP service (Fastify): registers the route table (routes.ts) with its
// schemas, authenticates every call by party token before its body is read, and wires uploads,
// policy-checked requests, runs, releases, the ledger and the audit log to the store.
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { UserError } from '../errors.js';
import { canonicalJson, SchemaError, type Json } from '../schema/json-checks.js';
import { newId } from './ids.js';
import { openApiDocument } from './openapi.js';
import { compilePolicy, MICROS, NOISY_MODES, ROLES, toMicros, type Policy, type Role } from './policy.js';
import { budgetReason, checkRequest, type RunRequest } from './request-check.js';
import { ARROW_MEDIA_TYPE, paramsOf, ROUTES, type Access, type RouteSpec } from './routes.js';
import { RunQueue } from './runner.js';
import type { PartyRecord, ProjectRecord, RunRecord, Store, UploadRecord } from './store/records.js';
import { bearerToken, hashToken, matchToken, newToken } from './tokens.js';
import { checkUpload, keepUpload, receiveUpload, UploadTooLarge } from './upload-file.js';

/** JSON bodies are small (a policy is the largest); uploads have their own limit. */
const JSON_BODY_LIMIT = 256 * 1024;

export interface ServiceOptions {
  store: Store;
  dataDir: string;
  workers: number;
  maxUploadBytes: number;
  /** SHA-256 (hex) of the operator's token, which may only create projects. */
  adminTokenHash: string;
  /** Fastify logger options (pino), or false. */
  logger: false | { level: string; stream?: NodeJS.WritableStream };
}

type Caller = { kind: 'admin' } | { kind: 'party'; party: PartyRecord };

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly reasons?: string[]) {
    super(message);
  }
}

const uploadView = (u: UploadRecord) => ({
  id: u.id,
  role: u.role,
  status: u.status,
  reasons: u.reasons,
  bytes: u.bytes,
  sha256: u.sha256,
  records: u.records,
  presenceFields: u.presenceFields,
  createdAt: u.createdAt,
});

const runView = (r: RunRecord) => ({
  id: r.id,
  status: r.status,
  reasons: r.reasons,
  mode: r.mode,
  epsilon: r.epsilonMicros / MICROS,
  upload: r.requestUpload,
  registryUpload: r.registryUpload,
  progress: r.progress,
  progressMessage: r.progressMessage,
  metadata: r.metadata,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

/** An upload cut off by a crash was never recorded: its temporary file goes at the next start. */
async function removePartialUploads(folder: string): Promise<void> {
  for (const project of await readdir(folder)) {
    const files = await readdir(join(folder, project)).catch(() => []);
    for (const name of files) if (name.endsWith('.partial')) await unlink(join(folder, project, name)).catch(() => undefined);
  }
}

/** Builds the service (not yet listening); `runner.recover()` has run, so interrupted runs are settled. */
export async function buildService(options: ServiceOptions): Promise<{ app: FastifyInstance; runner: RunQueue; routes: string[] }> {
  const { store } = options;
  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : {
            level: options.logger.level,
            stream: options.logger.stream,
            // Tokens travel in this header; pino's default request serialiser omits headers, and
            // redaction keeps them out even if a serialiser or a log call ever includes them.
            redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'tokens', '*.tokens'], censor: '[redacted]' },
          },
    bodyLimit: JSON_BODY_LIMIT,
    // Fastify's defaults strip unknown properties and coerce types; a misspelt field must be an
    // error instead (as in schemas and policies), and "1" is not the number 1.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
    // Ids are random; no need to trust a proxy's headers for anything.
    trustProxy: false,
  });
  const log = (message: string) => app.log.info(message);
  const runner = new RunQueue({ store, dataDir: options.dataDir, workers: options.workers, log });
  await mkdir(join(options.dataDir, 'uploads'), { recursive: true });
  await mkdir(join(options.dataDir, 'runs'), { recursive: true });
  await removePartialUploads(join(options.dataDir, 'uploads'));
  const callers = new WeakMap<FastifyRequest, Caller>();

  // JSON, or a streamed encoded file; nothing else is parsed.
  app.removeContentTypeParser('text/plain');
  // Uploads are streamed by the handler, not parsed: the body stays a stream.
  app.addContentTypeParser([ARROW_MEDIA_TYPE, 'application/octet-stream'], (_request, payload, done) => done(null, payload));

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string; validation?: unknown }, request, reply) => {
    if (error instanceof HttpError) return reply.code(error.status).send({ error: error.code, message: error.message, ...(error.reasons ? { reasons: error.reasons } : {}) });
    if (error.validation !== undefined) return reply.code(400).send({ error: 'bad-request', message: error.message });
    if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) return reply.code(400).send({ error: 'bad-request', message: 'the body is not valid JSON' });
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send({ error: 'too-large', message: `the body is larger than ${JSON_BODY_LIMIT} bytes` });
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.code(415).send({ error: 'unsupported-media-type', message: `send JSON, or ${ARROW_MEDIA_TYPE} for uploads` });
    if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return reply.code(400).send({ error: 'bad-request', message: 'the body is empty' });
    if (error instanceof UserError) return reply.code(400).send({ error: 'bad-request', message: error.message });
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) return reply.code(error.statusCode).send({ error: 'bad-request', message: error.message });
    request.log.error({ err: error }, 'internal error');
    return reply.code(500).send({ error: 'internal', message: 'internal error (see the server log)' });
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'not-found', message: 'no such endpoint' }));

  const unauthorized = (message: string) => new HttpError(401, 'unauthorized', message);

  /** Runs before the body is read: an unauthenticated upload is never written anywhere. */
  const authenticate = (spec: RouteSpec, access: Access) => async (request: FastifyRequest) => {
    if (access === 'public') return;
    const token = bearerToken(request.headers.authorization);
    if (token === null) throw unauthorized('an Authorization: Bearer <token> header is required');
    if (access === 'admin') {
      if (matchToken(token, [options.adminTokenHash]) < 0) throw unauthorized('the token is not valid for this operation');
      callers.set(request, { kind: 'admin' });
      return;
    }
    const projectId = (request.params as { project: string }).project;
    const parties = await store.parties(projectId);
    const index = matchToken(token, parties.map((p) => p.tokenHash));
    // The same answer for a wrong token, another project's token and a project that does not exist.
    if (index < 0) throw unauthorized('the token is not valid for this project');
    const party = parties[index];
    if (!access.includes(party.role)) throw new HttpError(403, 'forbidden', `the ${party.role} may not ${spec.summary.split(';')[0]}`);
    callers.set(request, { kind: 'party', party });
  };

  const partyOf = (request: FastifyRequest): PartyRecord => {
    const caller = callers.get(request);
    if (caller?.kind !== 'party') throw new Error('route without a party caller');
    return caller.party;
  };

  const projectOf = async (request: FastifyRequest): Promise<{ project: ProjectRecord; policy: Policy; parties: PartyRecord[] }> => {
    const id = (request.params as { project: string }).project;
    const project = await store.project(id);
    if (project === null) throw new Error(`project ${id} vanished after authentication`);
    return { project, policy: compilePolicy(project.policy), parties: await store.parties(id) };
  };

  const runOf = async (request: FastifyRequest): Promise<RunRecord> => {
    const params = request.params as { project: string; run: string };
    const run = await store.run(params.project, params.run);
    if (run === null) throw new HttpError(404, 'not-found', `no run ${params.run} in this project`);
    return run;
  };

  const nameOf = (parties: readonly PartyRecord[], role: Role): string => parties.find((p) => p.role === role)?.name ?? role;

  type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  const handlers: Record<string, Handler> = {
    health: async () => ({ status: 'ok' }),
    openapi: async () => openApiDocument(),

    createProject: async (request, reply) => {
      const body = request.body as { name: string; registry: string; schemaFingerprint: string; schemaFields?: string[]; policy: Json; parties: Record<Role, string> };
      let policy: Policy;
      try {
        policy = compilePolicy(body.policy);
      } catch (error) {
        if (error instanceof SchemaError) throw new HttpError(400, 'bad-policy', `policy: ${error.message}`);
        throw error;
      }
      const unknown = policy.request.requiredFields.filter((name) => body.schemaFields !== undefined && !body.schemaFields.includes(name));
      if (unknown.length > 0) throw new HttpError(400, 'bad-policy', `policy: $.request.requiredFields names fields the schema does not have: ${unknown.join(', ')}`);
      const id = newId('prj');
      const tokens = Object.fromEntries(ROLES.map((role) => [role, newToken()])) as Record<Role, string>;
      const project: ProjectRecord = {
        id,
        name: body.name,
        registry: body.registry,
        schemaFingerprint: body.schemaFingerprint,
        schemaFields: body.schemaFields ?? null,
        policy: body.policy,
        createdAt: new Date().toISOString(),
      };
      const parties = ROLES.map((role) => ({ projectId: id, role, name: body.parties[role], tokenHash: hashToken(tokens[role]) }));
      await store.createProject(project, parties, {
        kind: 'project.created',
        actor: 'admin',
        data: {
          name: body.name,
          registry: body.registry,
          schemaFingerprint: body.schemaFingerprint,
          schemaFields: body.schemaFields ?? null,
          parties: body.parties,
          policy: body.policy,
          policySha256: bytesToHex(sha256(utf8ToBytes(canonicalJson(body.policy)))),
        },
      });
      return reply.code(201).send({ id, tokens });
    },

    getProject: async (request) => {
      const { project, parties } = await projectOf(request);
      return {
        id: project.id,
        name: project.name,
        registry: project.registry,
        schemaFingerprint: project.schemaFingerprint,
        schemaFields: project.schemaFields,
        policy: project.policy,
        parties: Object.fromEntries(parties.map((p) => [p.role, p.name])),
        you: partyOf(request).role,
      };
    },

    upload: async (request, reply) => {
      const party = partyOf(request);
      const { project } = await projectOf(request);
      const type = (request.headers['content-type'] ?? '').split(';')[0].trim();
      if (type !== ARROW_MEDIA_TYPE && type !== 'application/octet-stream') throw new HttpError(415, 'unsupported-media-type', `an upload is sent as ${ARROW_MEDIA_TYPE}`);
      const declared = Number(request.headers['content-length'] ?? '0');
      const id = newId('upl');
      const folder = join(options.dataDir, 'uploads', project.id);
      await mkdir(folder, { recursive: true });
      const path = join(folder, `${id}.arrow`);
      const temporary = `${path}.partial`;
      const refuse = async (status: number, reasons: string[], bytes: number, digest: string) => {
        const upload: UploadRecord = {
          id,
          projectId: project.id,
          role: party.role,
          status: 'refused',
          reasons,
          path: null,
          bytes,
          sha256: digest,
          records: null,
          filterBits: null,
          keyCheck: null,
          schemaFingerprint: null,
          presenceFields: null,
          createdAt: new Date().toISOString(),
        };
        await store.addUpload(upload, { kind: 'upload.refused', actor: party.role, data: { upload: id, role: party.role, bytes, sha256: digest, reasons } });
        return reply.code(status).send(uploadView(upload));
      };
      if (declared > options.maxUploadBytes) {
        // Refused before a byte is stored; the connection is closed so the client stops sending.
        reply.header('connection', 'close');
        return refuse(413, [`the upload (${declared} bytes) is larger than the service's limit of ${options.maxUploadBytes} bytes`], declared, '');
      }
      let received;
      try {
        received = await receiveUpload(request.body as Readable, temporary, options.maxUploadBytes);
      } catch (error) {
        reply.header('connection', 'close');
        if (error instanceof UploadTooLarge) return refuse(413, [error.message], options.maxUploadBytes, '');
        return refuse(422, ['the upload ended before the file was complete'], 0, '');
      }
      const accepted = (await store.uploads(project.id)).filter((u) => u.status === 'accepted');
      const check = await checkUpload(temporary, project, accepted);
      if (check.reasons.length > 0 || check.file === null || check.file.metadata === null) {
        await unlink(temporary).catch(() => undefined);
        return refuse(422, check.reasons, received.bytes, received.sha256);
      }
      const { file } = check;
      const metadata = file.metadata!;
      await keepUpload(temporary, path);
      const upload: UploadRecord = {
        id,
        projectId: project.id,
        role: party.role,
        status: 'accepted',
        reasons: [],
        path,
        bytes: received.bytes,
        sha256: received.sha256,
        records: file.count,
        filterBits: file.filterBits,
        keyCheck: metadata.keyCheck,
        schemaFingerprint: metadata.schemaFingerprint,
        presenceFields: metadata.presenceFields ?? null,
        createdAt: new Date().toISOString(),
      };
      await store.addUpload(upload, {
        kind: 'upload.accepted',
        actor: party.role,
        data: {
          upload: id,
          role: party.role,
          records: file.count,
          bytes: received.bytes,
          sha256: received.sha256,
          filterBits: file.filterBits,
          keyCheck: metadata.keyCheck,
          schemaFingerprint: metadata.schemaFingerprint,
          hardening: metadata.hardening,
          presenceFields: metadata.presenceFields ?? null,
        },
      });
      return reply.code(201).send(uploadView(upload));
    },

    listUploads: async (request) => {
      const party = partyOf(request);
      const uploads = await store.uploads(party.projectId);
      return { uploads: uploads.filter((u) => party.role === 'auditor' || u.role === party.role).map(uploadView) };
    },

    getUpload: async (request) => {
      const party = partyOf(request);
      const params = request.params as { upload: string };
      const upload = await store.upload(party.projectId, params.upload);
      // Another custodian's upload is as absent as one that does not exist.
      if (upload === null || (party.role !== 'auditor' && upload.role !== party.role)) throw new HttpError(404, 'not-found', `no upload ${params.upload} of yours in this project`);
      return uploadView(upload);
    },

    requestRun: async (request, reply) => {
      const party = partyOf(request);
      const { project, policy, parties } = await projectOf(request);
      const body = request.body as RunRequest;
      const recipient = nameOf(parties, 'recipient');
      const verdict = await checkRequest({ store, project, policy, recipient, workers: options.workers }, body);
      const now = new Date().toISOString();
      const run: RunRecord = {
        id: newId('run'),
        projectId: project.id,
        status: 'queued',
        reasons: [],
        mode: body.release,
        epsilonMicros: verdict.epsilonMicros,
        requestUpload: verdict.requestUpload?.id ?? null,
        registryUpload: verdict.registryUpload?.id ?? null,
        recipient,
        registry: project.registry,
        metadata: body.metadata as Json,
        progress: 0,
        progressMessage: '',
        release: null,
        createdAt: now,
        updatedAt: now,
      };
      const summary = { run: run.id, upload: body.upload, registryUpload: run.registryUpload, mode: run.mode, epsilon: run.epsilonMicros / MICROS, metadata: run.metadata };
      const refuse = async (reasons: string[]) => {
        const refused = { ...run, status: 'refused' as const, reasons, epsilonMicros: 0 };
        await store.addRefusedRun(refused, { kind: 'run.refused', actor: party.role, data: { ...summary, epsilon: 0, reasons } });
        return reply.code(422).send(runView(refused));
      };
      if (verdict.reasons.length > 0) return refuse(verdict.reasons);
      const noisy = NOISY_MODES.includes(run.mode) && policy.privacy !== null;
      const spend = noisy ? { recipient, registry: project.registry, epsilonMicros: run.epsilonMicros, budgetMicros: toMicros(policy.privacy!.lifetimeBudget) } : null;
      const outcome = await store.acceptRun(run, spend, { kind: 'run.accepted', actor: party.role, data: { ...summary, recipient, registry: project.registry } });
      // Another request spent the budget between the check and now: refused like any overspend.
      if (!outcome.accepted) return refuse([budgetReason(recipient, project.registry, outcome.spentMicros, spend!.budgetMicros, run.epsilonMicros)]);
      runner.enqueue(run);
      return reply.code(202).send(runView(run));
    },

    listRuns: async (request) => ({ runs: (await store.runs(partyOf(request).projectId)).map(runView) }),
    getRun: async (request) => runView(await runOf(request)),

    getRelease: async (request) => {
      const party = partyOf(request);
      const { policy } = await projectOf(request);
      const modes = policy.release.modes[party.role];
      const run = await readable(request, (r) => modes.includes(r.mode), (r) => `the ${party.role} may not read "${r.mode}" releases (the policy allows it: ${modes.join(', ') || 'none'})`);
      await store.appendAudit(run.projectId, { kind: 'release.read', actor: party.role, data: { run: run.id, mode: run.mode } });
      return run.release;
    },

    getPairs: async (request, reply) => {
      const party = partyOf(request);
      const { policy } = await projectOf(request);
      const run = await readable(request, (r) => r.mode === 'pairs' && policy.release.modes[party.role].includes('pairs'), (r) =>
        r.mode === 'pairs' ? `the ${party.role} may not read pairs` : `run ${r.id} released "${r.mode}", not pairs`,
      );
      const csv = await readFile(runner.pairsPath(run), 'utf8');
      await store.appendAudit(run.projectId, { kind: 'release.read', actor: party.role, data: { run: run.id, mode: 'pairs', file: 'pairs.csv' } });
      return reply.type('text/csv').send(csv);
    },

    getLedger: async (request) => {
      const { project, policy, parties } = await projectOf(request);
      const recipient = nameOf(parties, 'recipient');
      const spent = (await store.spentMicros(recipient, project.registry)) / MICROS;
      const budget = policy.privacy?.lifetimeBudget ?? null;
      return { recipient, registry: project.registry, spent, budget, remaining: budget === null ? null : Math.max(0, (toMicros(budget) - toMicros(spent)) / MICROS) };
    },

    getAudit: async (request) => ({ entries: await store.audit(partyOf(request).projectId) }),
  };

  /** The run, if it finished and `allowed` says this party may read its release. */
  async function readable(request: FastifyRequest, allowed: (run: RunRecord) => boolean, why: (run: RunRecord) => string): Promise<RunRecord> {
    const run = await runOf(request);
    if (!allowed(run)) throw new HttpError(403, 'forbidden', why(run));
    if (run.status !== 'done') {
      throw new HttpError(409, 'not-ready', run.status === 'failed' || run.status === 'refused' ? `run ${run.id} ${run.status}: nothing was released` : `run ${run.id} is ${run.status}`, run.reasons);
    }
    return run;
  }

  const routes: string[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push(`${method} ${route.url}`);
  });
  for (const spec of ROUTES) {
    const params = paramsOf(spec.url);
    const schema: Record<string, unknown> = { response: Object.fromEntries(Object.entries(spec.responses).filter(([, s]) => s !== 'csv')) };
    if (params) schema.params = params;
    if (spec.body !== undefined && spec.body !== 'arrow') schema.body = spec.body;
    app.route({
      method: spec.method,
      url: spec.url,
      schema,
      onRequest: authenticate(spec, spec.access),
      handler: handlers[spec.operationId],
    });
  }
  await app.ready();
  await runner.recover();
  return { app, runner, routes };
}
