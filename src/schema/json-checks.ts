// Small readers for untrusted JSON that fail with the JSON path at fault, e.g.
// "$.fields[2].tokens.q: must be an integer between 1 and 8".
import { UserError } from '../errors.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export class SchemaError extends UserError {
  constructor(readonly path: string, problem: string) {
    super(`${path}: ${problem}`);
  }
}

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function object(value: Json | undefined, path: string): JsonObject {
  if (!isObject(value)) throw new SchemaError(path, 'must be an object');
  return value;
}

/** Rejects keys outside `allowed`, so a misspelt option is an error rather than silently ignored. */
export function onlyKeys(value: JsonObject, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new SchemaError(`${path}.${key}`, `unknown key (allowed: ${allowed.join(', ')})`);
  }
}

export function array(value: Json | undefined, path: string): Json[] {
  if (!Array.isArray(value)) throw new SchemaError(path, 'must be an array');
  return value;
}

export function string(value: Json | undefined, path: string): string {
  if (typeof value !== 'string') throw new SchemaError(path, 'must be a string');
  return value;
}

export function boolean(value: Json | undefined, path: string): boolean {
  if (typeof value !== 'boolean') throw new SchemaError(path, 'must be true or false');
  return value;
}

export function integer(value: Json | undefined, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SchemaError(path, `must be an integer between ${min} and ${max}`);
  }
  return value;
}

export function number(value: Json | undefined, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new SchemaError(path, `must be a number between ${min} and ${max}`);
  }
  return value;
}

export function oneOf<T extends string>(value: Json | undefined, path: string, options: readonly T[]): T {
  if (typeof value !== 'string' || !(options as readonly string[]).includes(value)) {
    throw new SchemaError(path, `must be one of ${options.map((o) => JSON.stringify(o)).join(', ')}`);
  }
  return value as T;
}

export function base64(value: Json | undefined, path: string): Uint8Array {
  const text = string(value, path);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new SchemaError(path, 'must be base64');
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** Throws a SchemaError when `value` nests arrays and objects deeper than `max` levels (checked without recursion). */
export function assertDepth(value: Json, max: number): void {
  const stack: Array<[Json, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth > max) throw new SchemaError('$', `nested deeper than ${max} levels: not a linkage schema`);
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push([child, depth + 1]);
  }
}

/** JSON with object keys sorted and no whitespace: equal schemas give equal fingerprints. */
export function canonicalJson(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
