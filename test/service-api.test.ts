// The service over real HTTP against a real `blindlink serve` process: authorisation for every
// role and endpoint, bad bodies, upload checks, concurrent uploads, the OpenAPI document, and
// tokens kept out of the log.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument, openApiPath } from '../src/service/openapi.js';
import { ROLES, type Role } from '../src/service/policy.js';
import { ARROW_MEDIA_TYPE, ROUTES, type RouteSpec } from '../src/service/routes.js';
import { buildService } from '../src/service/server.js';
import { openStore } from '../src/service/store/open.js';
import { hashToken } from '../src/service/tokens.js';
import { scratchDir } from './helpers/run-cli.js';
import { createProject, filterPool, FULL_METADATA, http, openPolicy, range, startTestServer, writeList, type TestServer } from './helpers/service.js';

let server: TestServer;
let p: Awaited<ReturnType<typeof createProject>>;
let q: Awaited<ReturnType<typeof createProject>>;
let dir: string;
let listFile: string;
let registryFile: string;
let run: string;
let uploads: { registry: string; list: string };

beforeAll(async () => {
  dir = scratchDir('blindlink-api-');
  server = await startTestServer(['--max-upload-mb', '1', '--log-level', 'debug']);
  p = await createProject(server, openPolicy());
  q = await createProject(server, openPolicy(), { registry: 'another registry' });
  const pool = filterPool(3000, 1);
  registryFile = await writeList(join(dir, 'registry.arrow'), pool, range(0, 2000), { presence: null });
  listFile = await writeList(join(dir, 'list.arrow'), pool, range(1950, 2150));
  // Two uploads at once, by the two custodians.
  const [registry, list] = await Promise.all([p.as('custodian-a').upload(p.id, registryFile), p.as('custodian-b').upload(p.id, listFile)]);
  uploads = { registry: registry.id, list: list.id };
  const queued = await p.as('custodian-b').requestRun(p.id, { upload: list.id, release: 'pairs', metadata: FULL_METADATA });
  run = (await p.as('custodian-b').waitForRun(p.id, queued.id)).id;
});

afterAll(async () => {
  await server?.stop();
});

describe('uploads', () => {
  it('accepts two uploads sent at once, each whole, with the digest and record count of its file', async () => {
    const mine = await p.as('custodian-b').uploads(p.id);
    const list = mine.uploads.find((u) => u.id === uploads.list)!;
    expect(list).toMatchObject({ status: 'accepted', records: 200, presenceFields: ['given_name', 'surname', 'street_address'] });
    expect(list.sha256).toBe(createHash('sha256').update(readFileSync(listFile)).digest('hex'));
    const theirs = await p.as('custodian-a').uploads(p.id);
    expect(theirs.uploads.find((u) => u.id === uploads.registry)).toMatchObject({ status: 'accepted', records: 2000 });
    // Each custodian sees only its own uploads; the other's is as absent as one that does not exist.
    expect(theirs.uploads.map((u) => u.id)).not.toContain(uploads.list);
    const other = await http(`${server.url}/projects/${p.id}/uploads/${uploads.list}`, { token: p.tokens['custodian-a'] });
    const none = await http(`${server.url}/projects/${p.id}/uploads/upl_doesnotexis`, { token: p.tokens['custodian-a'] });
    expect(other.status).toBe(404);
    expect(none.status).toBe(404);
    expect((await p.as('auditor').uploads(p.id)).uploads.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses, with the reason, files of another schema or secret, truncated files and clkhash JSON, and keeps none of them', async () => {
    const pool = filterPool(100, 2);
    const cases: Array<[string, RegExp]> = [
      [await writeList(join(dir, 'schema.arrow'), pool, range(0, 50), { fingerprint: 'ef'.repeat(32) }), /another schema \(fingerprint efefefef/],
      [await writeList(join(dir, 'secret.arrow'), pool, range(0, 50), { keyCheck: '01'.repeat(16) }), /another secret than upload upl_.* \(key check values differ\)/],
    ];
    const truncated = join(dir, 'truncated.arrow');
    writeFileSync(truncated, readFileSync(listFile).subarray(0, 5000));
    cases.push([truncated, /^the file: not a readable Arrow IPC file \(truncated or corrupt\)$/]);
    const json = join(dir, 'clks.json');
    writeFileSync(json, JSON.stringify({ clks: [Buffer.alloc(128, 1).toString('base64')] }));
    cases.push([json, /no blindlink metadata/]);
    for (const [file, reason] of cases) {
      const answer = await p.as('custodian-b').upload(p.id, file).then(
        () => null,
        (error: { status: number; reasons: string[] }) => error,
      );
      expect(answer?.status, file).toBe(422);
      expect(answer?.reasons.some((r) => reason.test(r)), `${file}: ${answer?.reasons.join('; ')}`).toBe(true);
      expect(answer?.reasons.join(' '), 'no server path in a reason').not.toContain(server.data);
    }
    const kept = readdirSync(join(server.data, 'uploads', p.id));
    expect(kept.filter((name) => name.endsWith('.partial'))).toEqual([]);
    const accepted = (await p.as('auditor').uploads(p.id)).uploads.filter((u) => u.status === 'accepted').map((u) => `${u.id}.arrow`);
    expect(kept.sort()).toEqual(accepted.sort());
    const refusals = (await p.as('auditor').audit(p.id)).entries.filter((e) => e.kind === 'upload.refused');
    expect(refusals.length).toBeGreaterThanOrEqual(4);
  });

  it('refuses an upload over the size limit, declared or streamed without a length, and records the refusal', async () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 7);
    const declared = await http(`${server.url}/projects/${p.id}/uploads`, { method: 'POST', token: p.tokens['custodian-a'], headers: { 'content-type': ARROW_MEDIA_TYPE }, body: big });
    expect(declared.status).toBe(413);
    expect((declared.body as { reasons: string[] }).reasons[0]).toMatch(/larger than the service's limit of 1048576 bytes/);
    const chunks = async function* () {
      for (let i = 0; i < 20; i++) yield new Uint8Array(64 * 1024);
    };
    const streamed = await http(`${server.url}/projects/${p.id}/uploads`, {
      method: 'POST',
      token: p.tokens['custodian-a'],
      headers: { 'content-type': ARROW_MEDIA_TYPE },
      body: ReadableStream.from(chunks()),
      duplex: 'half',
    } as RequestInit & { token: string });
    expect(streamed.status).toBe(413);
    const audit = (await p.as('auditor').audit(p.id)).entries.filter((e) => e.kind === 'upload.refused' && JSON.stringify(e.data).includes('limit'));
    expect(audit.length).toBe(2);
  });
});

describe('bodies', () => {
  const post = (path: string, body: string, type = 'application/json', token = server.adminToken) =>
    http(`${server.url}${path}`, { method: 'POST', token, headers: { 'content-type': type }, body });

  it('answers malformed JSON with 400, an unknown field or missing one with 400 naming it, other media types with 415, a huge JSON body with 413', async () => {
    expect(await post('/projects', '{"name": ')).toMatchObject({ status: 400, body: { error: 'bad-request', message: 'the body is not valid JSON' } });
    expect(await post('/projects', '')).toMatchObject({ status: 400 });
    const missing = await post('/projects', JSON.stringify({ name: 'x' }));
    expect(missing.status).toBe(400);
    expect((missing.body as { message: string }).message).toMatch(/required property 'registry'/);
    const unknown = await post(`/projects/${p.id}/runs`, JSON.stringify({ upload: 'u', release: 'count', metadata: {}, extra: 1 }), 'application/json', p.tokens['custodian-b']);
    expect(unknown.status).toBe(400);
    expect((unknown.body as { message: string }).message).toMatch(/additional properties/);
    expect((await post('/projects', 'name=x', 'text/plain')).status).toBe(415);
    expect((await post(`/projects/${p.id}/uploads`, '{}', 'application/json', p.tokens['custodian-a'])).status).toBe(415);
    expect((await post('/projects', JSON.stringify({ name: 'x'.repeat(300 * 1024) }))).status).toBe(413);
  });

  it('refuses a policy that fails validation with its JSON path', async () => {
    const bad = { name: 'x', registry: 'r', schemaFingerprint: 'ab'.repeat(32), parties: { 'custodian-a': 'a', 'custodian-b': 'b', recipient: 'c', auditor: 'd' }, policy: { ...(openPolicy() as object), privacy: { epsilonPerRelease: -1, lifetimeBudget: 1 } } };
    const answer = await post('/projects', JSON.stringify(bad));
    expect(answer).toMatchObject({ status: 400, body: { error: 'bad-policy', message: 'policy: $.privacy.epsilonPerRelease: must be a number between 0 and 100' } });
    const unknownField = await post('/projects', JSON.stringify({ ...bad, schemaFields: ['surname'], policy: openPolicy() }));
    expect(unknownField).toMatchObject({ status: 400, body: { error: 'bad-policy', message: 'policy: $.request.requiredFields names fields the schema does not have: given_name' } });
  });
});

describe('authorisation, every role and endpoint', () => {
  type Caller = Role | 'admin' | 'none' | 'garbage' | 'other-project';
  const callers: Caller[] = ['admin', ...ROLES, 'none', 'garbage', 'other-project'];
  const tokenOf = (caller: Caller): string | undefined =>
    caller === 'admin' ? server.adminToken : caller === 'none' ? undefined : caller === 'garbage' ? 'blt_thisisnotatokenofanyproject000000000000000' : caller === 'other-project' ? q.tokens['custodian-b'] : p.tokens[caller];

  function request(spec: RouteSpec, project: string): { path: string; init: RequestInit } {
    const path = spec.url.replace(':project', project).replace(':upload', uploads.list).replace(':run', run);
    if (spec.method === 'GET') return { path, init: {} };
    if (spec.body === 'arrow') return { path, init: { method: 'POST', headers: { 'content-type': ARROW_MEDIA_TYPE }, body: readFileSync(listFile) } };
    const body =
      spec.operationId === 'createProject'
        ? { name: 'n', registry: 'r', schemaFingerprint: 'ab'.repeat(32), policy: openPolicy(), parties: { 'custodian-a': 'a', 'custodian-b': 'b', recipient: 'c', auditor: 'd' } }
        : { upload: 'upl_doesnotexis', release: 'count', metadata: {} };
    return { path, init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } };
  }

  /** 'ok' means neither 401 nor 403: the call was let through to its handler. */
  function expected(spec: RouteSpec, caller: Caller): 'ok' | 401 | 403 {
    if (spec.access === 'public') return 'ok';
    if (spec.access === 'admin') return caller === 'admin' ? 'ok' : 401;
    if (caller === 'admin' || caller === 'none' || caller === 'garbage' || caller === 'other-project') return 401;
    if (!spec.access.includes(caller)) return 403;
    // The table's run released pairs: the policy lets the recipient read pairs, the auditor only counts.
    if (spec.operationId === 'getRelease' || spec.operationId === 'getPairs') return caller === 'recipient' ? 'ok' : 403;
    return 'ok';
  }

  for (const spec of ROUTES) {
    it(`${spec.method} ${spec.url}`, async () => {
      for (const caller of callers) {
        const { path, init } = request(spec, p.id);
        const answer = await http(`${server.url}${path}`, { ...init, token: tokenOf(caller) });
        const want = expected(spec, caller);
        if (want === 'ok') expect([401, 403], `${caller}: ${answer.text}`).not.toContain(answer.status);
        else expect(answer.status, `${caller}: ${answer.text}`).toBe(want);
      }
      if (spec.access !== 'public' && spec.access !== 'admin') {
        // A party token on a project that does not exist gets exactly the wrong-token answer.
        const { path, init } = request(spec, 'prj_doesnotexist');
        const missing = await http(`${server.url}${path}`, { ...init, token: p.tokens.auditor });
        const wrong = await http(`${server.url}${request(spec, p.id).path}`, { ...request(spec, p.id).init, token: tokenOf('garbage') });
        const other = await http(`${server.url}${request(spec, p.id).path}`, { ...request(spec, p.id).init, token: tokenOf('other-project') });
        expect(missing.status).toBe(401);
        expect(missing.text).toBe(wrong.text);
        expect(other.text).toBe(wrong.text);
      }
    });
  }

  it('gives the recipient the pairs it may read, and never a path or a comparison count', async () => {
    const release = await p.as('recipient').release(p.id, run);
    expect(release).toMatchObject({ mode: 'pairs', count: 50, pairs: 50, records: { list: 200, registry: 2000 } });
    expect(JSON.stringify(release)).not.toMatch(/path|pairsCompared|blocking|\//);
    const csv = await p.as('recipient').pairs(p.id, run);
    expect(csv.trim().split('\n')).toHaveLength(51);
  });
});

describe('the OpenAPI document', () => {
  it('describes exactly the routes the server registers, and the server serves it', async () => {
    const data = scratchDir('blindlink-openapi-');
    const store = await openStore({ data });
    const { app, routes } = await buildService({ store, dataDir: data, workers: 1, maxUploadBytes: 1024, adminTokenHash: hashToken('x'), logger: false });
    try {
      const document = openApiDocument() as { openapi: string; paths: Record<string, Record<string, { responses: object; parameters?: Array<{ name: string }> }>> };
      expect(document.openapi).toBe('3.1.0');
      const documented = Object.entries(document.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
      expect(routes.map((route) => { const [method, url] = route.split(' '); return `${method} ${openApiPath(url)}`; }).sort()).toEqual(documented.sort());
      for (const [path, ops] of Object.entries(document.paths)) {
        for (const op of Object.values(ops)) {
          const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
          expect((op.parameters ?? []).map((param) => param.name).sort()).toEqual(names.sort());
          expect(Object.keys(op.responses).length).toBeGreaterThan(0);
        }
      }
      expect((await http(`${server.url}/openapi.json`)).body).toEqual(JSON.parse(JSON.stringify(document)));
    } finally {
      await app.close();
      await store.close();
    }
  });
});

describe('the log', () => {
  it('never contains a token, though every call above carried one', async () => {
    const log = server.log();
    expect(log.length).toBeGreaterThan(1000);
    expect(log).toMatch(/"statusCode":401/);
    for (const token of [server.adminToken, ...Object.values(p.tokens), ...Object.values(q.tokens), 'blt_thisisnotatokenofanyproject']) {
      expect(log).not.toContain(token);
      expect(log).not.toContain(token.slice(4, 24));
    }
  });
});
