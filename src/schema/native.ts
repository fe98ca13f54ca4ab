// blindlink's own linkage schema ("blindlink": 1): per-field normaliser, tokeniser, bit budget,
// missing-value rule and weight; global filter length, token hash and HKDF parameters; optional
// keyed signature blocking.
import { utf8ToBytes } from '@noble/hashes/utils.js';
import type { NormaliserName } from '../normalise/index.js';
import { NO_HARDENING } from '../harden.js';
import type { BitBudget, EncodingPlan, FieldPlan, Hardening, SignatureBlockingPlan, SignatureRole, TokenHash, Tokeniser } from '../types.js';
import {
  array,
  base64,
  boolean,
  integer,
  number,
  object,
  oneOf,
  onlyKeys,
  SchemaError,
  string,
  type Json,
  type JsonObject,
} from './json-checks.js';

const NORMALISERS: readonly NormaliserName[] = ['none', 'text', 'name', 'address', 'date', 'digits'];
const HASHES = ['blake2b', 'hmac-sha256', 'double-hash'] as const;
const DEFAULT_SALT = utf8ToBytes('blindlink linkage schema v1');
const DEFAULT_INFO = utf8ToBytes('blindlink field keys');

export function nativePlan(schema: JsonObject, fingerprint: string): EncodingPlan {
  onlyKeys(schema, ['blindlink', 'description', 'filter', 'kdf', 'hardening', 'fields', 'blocking'], '$');
  integer(schema.blindlink, '$.blindlink', 1, 1);
  const filter = object(schema.filter ?? {}, '$.filter');
  onlyKeys(filter, ['bits', 'hash'], '$.filter');
  const bits = filter.bits === undefined ? 1024 : integer(filter.bits, '$.filter.bits', 64, 65536);
  if ((bits & (bits - 1)) !== 0) throw new SchemaError('$.filter.bits', 'must be a power of two (64 ... 65536)');
  const defaultHash = filter.hash === undefined ? 'blake2b' : oneOf(filter.hash, '$.filter.hash', HASHES);
  const steps = hardening(schema.hardening);
  const hashBits = bits * 2 ** steps.xorFolds;
  if (hashBits > 65536) throw new SchemaError('$.hardening.xorFolds', 'filter.bits << xorFolds must not exceed 65536');
  const fieldList = array(schema.fields, '$.fields');
  if (fieldList.length === 0) throw new SchemaError('$.fields', 'must list at least one field');
  if (fieldList.length > 60) throw new SchemaError('$.fields', 'at most 60 fields are supported');
  const names = new Set<string>();
  const fields = fieldList.map((value, index) => {
    const field = nativeField(value, index, defaultHash);
    if (names.has(field.name)) throw new SchemaError(`$.fields[${index}].name`, `duplicate field name "${field.name}"`);
    names.add(field.name);
    return field;
  });
  if (steps.salt && !names.has(steps.salt.field)) {
    throw new SchemaError('$.hardening.salt.field', `names no field of this schema ("${steps.salt.field}")`);
  }
  return {
    dialect: 'blindlink',
    filterBits: steps.balance ? 2 * bits : bits,
    hashBits,
    hardening: steps,
    kdf: keyDerivation(schema.kdf, fields.length),
    fields,
    blocking: schema.blocking === undefined ? null : blocking(schema.blocking, fields),
    fingerprint,
  };
}

const SIGNATURE_ROLES: readonly SignatureRole[] = ['givenName', 'surname', 'birthYear', 'zip'];

/**
 * `"blocking": {"signature": {"givenName": f, "surname": f, "birthYear": f, "zip": f}}`: which
 * field each part of the signature rules reads. All four are required, so two custodians cannot
 * silently disagree on a rule's inputs; the section is part of the fingerprint like the rest.
 */
function blocking(value: Json, fields: readonly FieldPlan[]): SignatureBlockingPlan {
  const spec = object(value, '$.blocking');
  onlyKeys(spec, ['signature'], '$.blocking');
  if (spec.signature === undefined) throw new SchemaError('$.blocking', 'must name a blocking method: "signature"');
  const path = '$.blocking.signature';
  const roles = object(spec.signature, path);
  onlyKeys(roles, SIGNATURE_ROLES, path);
  const indexOf = (role: SignatureRole): number => {
    if (roles[role] === undefined) throw new SchemaError(`${path}.${role}`, `is required (the field the rules read as ${role})`);
    const name = string(roles[role], `${path}.${role}`);
    const index = fields.findIndex((field) => field.name === name);
    if (index < 0) throw new SchemaError(`${path}.${role}`, `names no field of this schema ("${name}")`);
    const prepare = fields[index].prepare;
    // The birth year is read from the canonical YYYYMMDD that the date normaliser writes.
    if (role === 'birthYear' && (prepare.type !== 'normalise' || prepare.normaliser !== 'date')) {
      throw new SchemaError(`${path}.${role}`, `must name a field with "normalise": "date" ("${name}" is not one)`);
    }
    return index;
  };
  return {
    method: 'signature',
    fields: { givenName: indexOf('givenName'), surname: indexOf('surname'), birthYear: indexOf('birthYear'), zip: indexOf('zip') },
  };
}

/**
 * Hardening when a schema names none: balancing and BLIP 0.02 kept re-identification at or below
 * 1% under both built-in attacks at an F1 cost of at most 0.001 (docs/PRIVACY.md).
 */
export const DEFAULT_HARDENING: Readonly<Hardening> = { ...NO_HARDENING, balance: true, blip: 0.02 };

function hardening(value: Json | undefined): Hardening {
  if (value === undefined) return { ...DEFAULT_HARDENING };
  const path = '$.hardening';
  if (value === 'none') return { ...NO_HARDENING };
  const spec = object(value, path);
  onlyKeys(spec, ['xorFolds', 'rule90', 'diffusion', 'balance', 'blip', 'salt'], path);
  let diffusion: Hardening['diffusion'] = null;
  if (spec.diffusion !== undefined) {
    const taps = object(spec.diffusion, `${path}.diffusion`);
    onlyKeys(taps, ['taps'], `${path}.diffusion`);
    diffusion = { taps: integer(taps.taps, `${path}.diffusion.taps`, 2, 64) };
  }
  let salt: Hardening['salt'] = null;
  if (spec.salt !== undefined) {
    const saltSpec = object(spec.salt, `${path}.salt`);
    onlyKeys(saltSpec, ['field', 'prefix'], `${path}.salt`);
    salt = {
      field: string(saltSpec.field, `${path}.salt.field`),
      prefix: saltSpec.prefix === undefined ? null : integer(saltSpec.prefix, `${path}.salt.prefix`, 1, 64),
    };
  }
  return {
    xorFolds: spec.xorFolds === undefined ? 0 : integer(spec.xorFolds, `${path}.xorFolds`, 0, 4),
    rule90: spec.rule90 === undefined ? false : boolean(spec.rule90, `${path}.rule90`),
    diffusion,
    balance: spec.balance === undefined ? false : boolean(spec.balance, `${path}.balance`),
    blip: spec.blip === undefined ? 0 : number(spec.blip, `${path}.blip`, 0, 0.5),
    salt,
  };
}

function keyDerivation(value: Json | undefined, slots: number): EncodingPlan['kdf'] {
  const spec = object(value ?? {}, '$.kdf');
  onlyKeys(spec, ['hash', 'salt', 'info'], '$.kdf');
  return {
    hash: spec.hash === undefined ? 'SHA256' : oneOf(spec.hash, '$.kdf.hash', ['SHA256', 'SHA512'] as const),
    salt: spec.salt === undefined ? DEFAULT_SALT : base64(spec.salt, '$.kdf.salt'),
    info: spec.info === undefined ? DEFAULT_INFO : base64(spec.info, '$.kdf.info'),
    keySize: 64,
    slots,
  };
}

const FIELD_KEYS = [
  'name', 'column', 'normalise', 'dateOrder', 'digits', 'invalid', 'tokens',
  'bitsPerToken', 'bitsPerField', 'weight', 'missing', 'hash',
];

function nativeField(value: Json, index: number, defaultHash: (typeof HASHES)[number]): FieldPlan {
  const path = `$.fields[${index}]`;
  const spec = object(value, path);
  onlyKeys(spec, FIELD_KEYS, path);
  const name = string(spec.name, `${path}.name`);
  if (name.length === 0) throw new SchemaError(`${path}.name`, 'must not be empty');
  const column = spec.column === undefined ? name : string(spec.column, `${path}.column`);
  const normaliser = spec.normalise === undefined ? 'text' : oneOf(spec.normalise, `${path}.normalise`, NORMALISERS);
  const tokeniser = tokens(spec.tokens, `${path}.tokens`, normaliser);
  const weight = spec.weight === undefined ? 1 : number(spec.weight, `${path}.weight`, 0, 16);
  return {
    name,
    column,
    keySlot: index,
    prepare: {
      type: 'normalise',
      normaliser,
      options: {
        dateOrder: spec.dateOrder === undefined ? undefined : oneOf(spec.dateOrder, `${path}.dateOrder`, ['MDY', 'DMY', 'YMD'] as const),
        digits: spec.digits === undefined ? undefined : integer(spec.digits, `${path}.digits`, 1, 64),
      },
      invalid: spec.invalid === undefined ? 'missing' : oneOf(spec.invalid, `${path}.invalid`, ['missing', 'error'] as const),
    },
    missing: missingValues(spec.missing, `${path}.missing`),
    tokeniser,
    bits: budget(spec, path, weight),
    hash: fieldHash(spec.hash === undefined ? defaultHash : oneOf(spec.hash, `${path}.hash`, HASHES)),
  };
}

function fieldHash(name: (typeof HASHES)[number]): TokenHash {
  if (name === 'double-hash') return { type: 'double', preventSingularity: true };
  return { type: name };
}

// Weight scales the field's bits, so a more reliable field (date of birth) counts for more in the
// Dice score than a noisy one (street address).
function budget(spec: JsonObject, path: string, weight: number): BitBudget {
  if (spec.bitsPerToken !== undefined && spec.bitsPerField !== undefined) {
    throw new SchemaError(path, 'give bitsPerToken or bitsPerField, not both');
  }
  if (spec.bitsPerField !== undefined) {
    return { perField: Math.round(integer(spec.bitsPerField, `${path}.bitsPerField`, 1, 65536) * weight) };
  }
  const k = spec.bitsPerToken === undefined ? 20 : integer(spec.bitsPerToken, `${path}.bitsPerToken`, 1, 256);
  return { perToken: Math.max(weight === 0 ? 0 : 1, Math.round(k * weight)) };
}

function tokens(value: Json | undefined, path: string, normaliser: NormaliserName): Tokeniser {
  if (value === undefined) return normaliser === 'date' ? { type: 'date' } : { type: 'qgram', q: 2, padded: true, positional: false };
  const spec = object(value, path);
  const type = oneOf(spec.type, `${path}.type`, ['qgram', 'exact', 'date', 'numeric']);
  switch (type) {
    case 'qgram':
      onlyKeys(spec, ['type', 'q', 'padded', 'positional'], path);
      return {
        type,
        q: spec.q === undefined ? 2 : integer(spec.q, `${path}.q`, 1, 8),
        padded: spec.padded === undefined ? true : boolean(spec.padded, `${path}.padded`),
        positional: spec.positional === undefined ? false : boolean(spec.positional, `${path}.positional`),
      };
    case 'exact':
      onlyKeys(spec, ['type'], path);
      return { type };
    case 'date':
      onlyKeys(spec, ['type'], path);
      if (normaliser !== 'date') throw new SchemaError(`${path}.type`, 'the date tokeniser needs "normalise": "date"');
      return { type };
    case 'numeric':
      onlyKeys(spec, ['type', 'distance', 'resolution'], path);
      return {
        type,
        distance: number(spec.distance, `${path}.distance`, Number.MIN_VALUE, Number.MAX_VALUE),
        resolution: spec.resolution === undefined ? 4 : integer(spec.resolution, `${path}.resolution`, 1, 64),
      };
  }
}

function missingValues(value: Json | undefined, path: string): FieldPlan['missing'] {
  if (value === undefined) return null;
  const spec = object(value, path);
  onlyKeys(spec, ['values', 'replaceWith'], path);
  const values = spec.values === undefined ? [] : array(spec.values, `${path}.values`).map((v, i) => string(v, `${path}.values[${i}]`));
  return { values, replaceWith: spec.replaceWith === undefined ? undefined : string(spec.replaceWith, `${path}.replaceWith`) };
}
