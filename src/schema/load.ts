// Loads a linkage schema file of either dialect (blindlink's own, or clkhash v2/v3) and compiles it
// into an EncodingPlan; the fingerprint is the SHA-256 of the schema's canonical JSON.
import { UserError } from '../errors.js';
import { fsReason } from '../io/fs-errors.js';
import { readCapped } from '../io/read-capped.js';
import { schemaFingerprint } from '../keys.js';
import type { EncodingPlan } from '../types.js';
import { clkhashPlan } from './clkhash.js';
import { assertDepth, canonicalJson, isObject, SchemaError, type Json } from './json-checks.js';
import { nativePlan } from './native.js';

/** Compiles a parsed schema; throws SchemaError naming the JSON path at fault. */
export function compileSchema(schema: Json): EncodingPlan {
  if (!isObject(schema)) throw new SchemaError('$', 'a schema must be a JSON object');
  // canonicalJson recurses: a schema nested thousands deep overflowed the stack before validation.
  assertDepth(schema, MAX_SCHEMA_DEPTH);
  const fingerprint = schemaFingerprint(canonicalJson(schema));
  if (schema.blindlink !== undefined) return nativePlan(schema, fingerprint);
  if (schema.version !== undefined) {
    if (schema.version === 1) throw new SchemaError('$.version', 'clkhash v1 schemas are not supported; upgrade with clkhash or use v2/v3');
    return clkhashPlan(schema, fingerprint);
  }
  throw new SchemaError('$', 'not a linkage schema: expected "blindlink": 1 or a clkhash "version"');
}

/** Nesting a schema may have; real ones reach 5 ($.fields[0].missing.values[0]). */
export const MAX_SCHEMA_DEPTH = 32;
/** Largest schema file read; 60 fields take a few kilobytes. */
export const MAX_SCHEMA_BYTES = 1 << 20;

/**
 * Where JSON.parse stopped, as "line L, column C", without quoting the text: a wrong file given as
 * --schema (a CSV of people) must not put its content in the message.
 */
function parseErrorPlace(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  if (/Unexpected end of JSON input/.test(message)) return 'it ends early: truncated?';
  const at = /at position (\d+)/.exec(message);
  if (at === null) return 'a syntax error';
  const position = Number(at[1]);
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  return `line ${line}, column ${position - before.lastIndexOf('\n')}`;
}

/** Reads and compiles a schema file; errors name the file and the JSON path. */
export async function loadSchema(path: string): Promise<EncodingPlan> {
  let bytes: Uint8Array;
  try {
    bytes = await readCapped(path, MAX_SCHEMA_BYTES + 1);
  } catch (error) {
    throw new UserError(`${path}: cannot read schema (${fsReason(error)})`);
  }
  if (bytes.length > MAX_SCHEMA_BYTES) throw new UserError(`${path}: larger than ${MAX_SCHEMA_BYTES} bytes: is this a linkage schema?`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UserError(`${path}: not valid UTF-8, so not a JSON schema`);
  }
  // A BOM (which the TextDecoder above already drops) or stray whitespace never breaks a schema.
  let parsed: Json;
  try {
    parsed = JSON.parse(text) as Json;
  } catch (error) {
    throw new UserError(`${path}: not valid JSON (${parseErrorPlace(text, error)})`);
  }
  try {
    return compileSchema(parsed);
  } catch (error) {
    if (error instanceof UserError) throw new UserError(`${path}: ${error.message}`);
    throw error;
  }
}
