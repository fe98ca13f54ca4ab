// Loads a linkage schema file of either dialect (blindlink's own, or clkhash v2/v3) and compiles it
// into an EncodingPlan; the fingerprint is the SHA-256 of the schema's canonical JSON.
import { readFile } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { schemaFingerprint } from '../keys.js';
import type { EncodingPlan } from '../types.js';
import { clkhashPlan } from './clkhash.js';
import { canonicalJson, isObject, SchemaError, type Json } from './json-checks.js';
import { nativePlan } from './native.js';

/** Compiles a parsed schema; throws SchemaError naming the JSON path at fault. */
export function compileSchema(schema: Json): EncodingPlan {
  if (!isObject(schema)) throw new SchemaError('$', 'a schema must be a JSON object');
  const fingerprint = schemaFingerprint(canonicalJson(schema));
  if (schema.blindlink !== undefined) return nativePlan(schema, fingerprint);
  if (schema.version !== undefined) {
    if (schema.version === 1) throw new SchemaError('$.version', 'clkhash v1 schemas are not supported; upgrade with clkhash or use v2/v3');
    return clkhashPlan(schema, fingerprint);
  }
  throw new SchemaError('$', 'not a linkage schema: expected "blindlink": 1 or a clkhash "version"');
}

/** Reads and compiles a schema file; errors name the file and the JSON path. */
export async function loadSchema(path: string): Promise<EncodingPlan> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UserError(`${path}: cannot read schema (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let parsed: Json;
  try {
    parsed = JSON.parse(text) as Json;
  } catch (error) {
    throw new UserError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  try {
    return compileSchema(parsed);
  } catch (error) {
    if (error instanceof UserError) throw new UserError(`${path}: ${error.message}`);
    throw error;
  }
}
