// The service's HTTP API as data: each route's method, path, who may call it and its JSON
// schemas. The server registers exactly these routes and the OpenAPI document is built from the
// same table, so the two cannot drift apart.
import { METADATA_FIELDS, RELEASE_MODES, ROLES, type Role } from './policy.js';

/** The media type of an encoded-file upload (Arrow IPC file format). */
export const ARROW_MEDIA_TYPE = 'application/vnd.apache.arrow.file';

export type JsonSchema = { [key: string]: unknown };
/** public: no token; admin: the operator's token; otherwise the party roles that may call. */
export type Access = 'public' | 'admin' | readonly Role[];

export interface RouteSpec {
  operationId: string;
  method: 'GET' | 'POST';
  /** Fastify syntax: /projects/:project */
  url: string;
  summary: string;
  access: Access;
  /** A JSON body, or 'arrow' for a streamed encoded file. */
  body?: JsonSchema | 'arrow';
  /** Response schemas by status code; 'csv' for a text/csv body. */
  responses: Record<number, JsonSchema | 'csv'>;
}

const str = (maxLength = 200): JsonSchema => ({ type: 'string', maxLength });
const strings: JsonSchema = { type: 'array', items: { type: 'string' } };
const free: JsonSchema = { type: 'object', additionalProperties: true };

export const ERROR: JsonSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' }, reasons: strings },
  required: ['error', 'message'],
};

const UPLOAD: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    role: { type: 'string' },
    status: { type: 'string', enum: ['accepted', 'refused'] },
    reasons: strings,
    bytes: { type: 'number' },
    sha256: { type: 'string' },
    records: { type: ['number', 'null'] },
    presenceFields: { type: ['array', 'null'], items: { type: 'string' } },
    createdAt: { type: 'string' },
  },
  required: ['id', 'status', 'reasons', 'bytes'],
};

const RUN: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: ['refused', 'queued', 'running', 'done', 'failed'] },
    reasons: strings,
    mode: { type: 'string' },
    epsilon: { type: 'number' },
    upload: { type: ['string', 'null'] },
    registryUpload: { type: ['string', 'null'] },
    progress: { type: 'number' },
    progressMessage: { type: 'string' },
    metadata: free,
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
  required: ['id', 'status', 'reasons', 'mode'],
};

const partyNames: JsonSchema = {
  type: 'object',
  properties: Object.fromEntries(ROLES.map((role) => [role, { type: 'string', minLength: 1, maxLength: 200 }])),
  required: [...ROLES],
  additionalProperties: false,
};

const projectParams: JsonSchema = { type: 'object', properties: { project: str(64) }, required: ['project'] };
const uploadParams: JsonSchema = { type: 'object', properties: { project: str(64), upload: str(64) }, required: ['project', 'upload'] };
const runParams: JsonSchema = { type: 'object', properties: { project: str(64), run: str(64) }, required: ['project', 'run'] };
export const PARAMS: Record<string, JsonSchema> = { project: projectParams, upload: uploadParams, run: runParams };

/** Which parameter schema a URL uses: its last `:name`. */
export function paramsOf(url: string): JsonSchema | undefined {
  const names = [...url.matchAll(/:(\w+)/g)].map((m) => m[1]);
  return names.length === 0 ? undefined : PARAMS[names.at(-1) as string];
}

const PARTIES_WITH_RUNS: readonly Role[] = ['custodian-b', 'recipient', 'auditor'];
const UPLOADERS: readonly Role[] = ['custodian-a', 'custodian-b'];

export const ROUTES: readonly RouteSpec[] = [
  { operationId: 'health', method: 'GET', url: '/health', summary: 'liveness check', access: 'public', responses: { 200: { type: 'object', properties: { status: { type: 'string' } } } } },
  { operationId: 'openapi', method: 'GET', url: '/openapi.json', summary: 'this API as an OpenAPI 3.1 document', access: 'public', responses: { 200: free } },
  {
    operationId: 'createProject',
    method: 'POST',
    url: '/projects',
    summary: 'create a project with its policy and parties; answers each party\'s token, once',
    access: 'admin',
    body: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 200 },
        registry: { type: 'string', minLength: 1, maxLength: 200 },
        schemaFingerprint: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        schemaFields: { type: 'array', items: { type: 'string', maxLength: 200 }, maxItems: 60 },
        policy: free,
        parties: partyNames,
      },
      required: ['name', 'registry', 'schemaFingerprint', 'policy', 'parties'],
      additionalProperties: false,
    },
    responses: {
      201: {
        type: 'object',
        properties: { id: { type: 'string' }, tokens: { type: 'object', properties: Object.fromEntries(ROLES.map((role) => [role, { type: 'string' }])) } },
        required: ['id', 'tokens'],
      },
    },
  },
  {
    operationId: 'getProject',
    method: 'GET',
    url: '/projects/:project',
    summary: 'the project, its policy and its parties\' names',
    access: ROLES,
    responses: {
      200: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          name: { type: 'string' },
          registry: { type: 'string' },
          schemaFingerprint: { type: 'string' },
          schemaFields: { type: ['array', 'null'], items: { type: 'string' } },
          policy: free,
          parties: free,
          you: { type: 'string' },
        },
      },
    },
  },
  {
    operationId: 'upload',
    method: 'POST',
    url: '/projects/:project/uploads',
    summary: 'upload an encoded Arrow file (custodian A: the registry; custodian B: a request list); checked on arrival',
    access: UPLOADERS,
    body: 'arrow',
    responses: { 201: UPLOAD, 413: UPLOAD, 422: UPLOAD },
  },
  { operationId: 'listUploads', method: 'GET', url: '/projects/:project/uploads', summary: 'your own uploads (the auditor: all)', access: [...UPLOADERS, 'auditor'], responses: { 200: { type: 'object', properties: { uploads: { type: 'array', items: UPLOAD } } } } },
  { operationId: 'getUpload', method: 'GET', url: '/projects/:project/uploads/:upload', summary: 'one of your uploads and its status', access: [...UPLOADERS, 'auditor'], responses: { 200: UPLOAD } },
  {
    operationId: 'requestRun',
    method: 'POST',
    url: '/projects/:project/runs',
    summary: 'ask for a match of a request list against the registry; refused with every reason it fails the policy',
    access: ['custodian-b'],
    body: {
      type: 'object',
      properties: {
        upload: str(64),
        release: { type: 'string', enum: [...RELEASE_MODES] },
        epsilon: { type: 'number', exclusiveMinimum: 0, maximum: 100 },
        metadata: { type: 'object', properties: Object.fromEntries(METADATA_FIELDS.map((field) => [field, str(2000)])), additionalProperties: false },
      },
      required: ['upload', 'release', 'metadata'],
      additionalProperties: false,
    },
    responses: { 202: RUN, 422: RUN },
  },
  { operationId: 'listRuns', method: 'GET', url: '/projects/:project/runs', summary: 'runs and refused requests, with status and progress', access: PARTIES_WITH_RUNS, responses: { 200: { type: 'object', properties: { runs: { type: 'array', items: RUN } } } } },
  { operationId: 'getRun', method: 'GET', url: '/projects/:project/runs/:run', summary: 'one run: status, progress, reasons', access: PARTIES_WITH_RUNS, responses: { 200: RUN } },
  {
    operationId: 'getRelease',
    method: 'GET',
    url: '/projects/:project/runs/:run/release',
    summary: 'what the run released, for a role whose policy modes include the run\'s mode',
    access: ROLES,
    responses: { 200: free },
  },
  {
    operationId: 'getPairs',
    method: 'GET',
    url: '/projects/:project/runs/:run/pairs',
    summary: 'the matched pairs (CSV) of a pairs release, for a role the policy allows pairs',
    access: ROLES,
    responses: { 200: 'csv' },
  },
  {
    operationId: 'getLedger',
    method: 'GET',
    url: '/projects/:project/ledger',
    summary: 'epsilon spent and left for the recipient on the project\'s registry',
    access: ROLES,
    responses: {
      200: {
        type: 'object',
        properties: { recipient: { type: 'string' }, registry: { type: 'string' }, spent: { type: 'number' }, budget: { type: ['number', 'null'] }, remaining: { type: ['number', 'null'] } },
      },
    },
  },
  {
    operationId: 'getAudit',
    method: 'GET',
    url: '/projects/:project/audit',
    summary: 'the project\'s hash-chained audit log, to verify independently',
    access: ['auditor'],
    responses: { 200: { type: 'object', properties: { entries: { type: 'array', items: free } } } },
  },
];
