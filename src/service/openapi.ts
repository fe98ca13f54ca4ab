// The OpenAPI 3.1 document of the service, built from the route table (routes.ts) so it always
// says what the server registers.
import { BLINDLINK_VERSION } from '../version.js';
import { ERROR, paramsOf, ROUTES, type JsonSchema, type RouteSpec } from './routes.js';

const DESCRIPTIONS: Record<number, string> = {
  200: 'OK',
  201: 'created',
  202: 'accepted and queued',
  400: 'malformed request (bad JSON, a field that fails its schema)',
  401: 'no valid token for this project (the same answer whether or not the project exists)',
  403: 'a party of the project whose role may not do this',
  404: 'no such resource in this project',
  409: 'not ready (the run has not finished, or it failed)',
  413: 'body larger than the limit',
  415: 'unsupported content type',
  422: 'refused: every reason is listed',
};

function operation(spec: RouteSpec): JsonSchema {
  const responses: JsonSchema = {};
  const codes = new Set<number>([...Object.keys(spec.responses).map(Number), 400]);
  if (spec.access !== 'public') codes.add(401);
  if (Array.isArray(spec.access)) codes.add(403);
  if (spec.url.includes(':upload') || spec.url.includes(':run')) codes.add(404);
  if (spec.operationId === 'getRelease' || spec.operationId === 'getPairs') codes.add(409);
  if (spec.body !== undefined) codes.add(413).add(415);
  for (const code of [...codes].sort()) {
    const schema = spec.responses[code] ?? ERROR;
    const content = schema === 'csv' ? { 'text/csv': { schema: { type: 'string' } } } : { 'application/json': { schema } };
    responses[String(code)] = { description: DESCRIPTIONS[code] ?? String(code), content };
  }
  const params = paramsOf(spec.url) as { properties: Record<string, JsonSchema> } | undefined;
  const op: JsonSchema = {
    operationId: spec.operationId,
    summary: spec.summary,
    responses,
    'x-blindlink-access': spec.access === 'public' || spec.access === 'admin' ? spec.access : [...spec.access],
  };
  if (params) op.parameters = Object.entries(params.properties).map(([name, schema]) => ({ name, in: 'path', required: true, schema }));
  if (spec.access !== 'public') op.security = [{ bearer: [] }];
  if (spec.body === 'arrow') {
    op.requestBody = { required: true, content: { 'application/vnd.apache.arrow.file': { schema: { type: 'string', contentMediaType: 'application/vnd.apache.arrow.file' } } } };
  } else if (spec.body !== undefined) {
    op.requestBody = { required: true, content: { 'application/json': { schema: spec.body } } };
  }
  return op;
}

/** `/projects/:project` in OpenAPI's syntax: `/projects/{project}`. */
export function openApiPath(url: string): string {
  return url.replace(/:(\w+)/g, '{$1}');
}

export function openApiDocument(): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const spec of ROUTES) (paths[openApiPath(spec.url)] ??= {})[spec.method.toLowerCase()] = operation(spec);
  return {
    openapi: '3.1.0',
    info: {
      title: 'blindlink linkage unit',
      version: BLINDLINK_VERSION,
      description: 'Projects, parties with roles and tokens, uploads of encoded files, policy-checked runs, releases, an epsilon ledger and a hash-chained audit log. See docs/SERVICE.md.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a party token (blt_...), shown once when the project is created' } } },
    paths,
  };
}
