// Imports clkhash linkage schemas (v3, and v2's older hashing block) into an EncodingPlan that
// reproduces clkhash's CLKs bit for bit. Values keep clkhash's raw behaviour: no normalisation.
import { NO_HARDENING } from '../harden.js';
import type { BitBudget, ClkhashFormat, EncodingPlan, FieldPlan, KeyDerivation, TokenHash, Tokeniser } from '../types.js';
import {
  array,
  base64,
  boolean,
  integer,
  isObject,
  object,
  oneOf,
  onlyKeys,
  SchemaError,
  string,
  type Json,
  type JsonObject,
} from './json-checks.js';
import { fullMatcher } from './safe-pattern.js';

const MAX_BITS = 65536;

// Keys clkhash's master schemas define (descriptions included); any other is a misspelling that
// would otherwise go silently unused.
const TOP_KEYS = ['version', 'clkConfig', 'features', '$schema', 'description'];
const CONFIG_KEYS = ['l', 'kdf', 'xor_folds', 'xorFolds', 'hash', 'description'];
const KDF_KEYS = ['type', 'hash', 'salt', 'info', 'keySize', 'description'];
const FEATURE_KEYS = ['identifier', 'ignored', 'description', 'format', 'hashing'];

export function clkhashPlan(schema: JsonObject, fingerprint: string): EncodingPlan {
  onlyKeys(schema, TOP_KEYS, '$');
  const version = integer(schema.version, '$.version', 2, 3);
  const config = object(schema.clkConfig, '$.clkConfig');
  onlyKeys(config, CONFIG_KEYS, '$.clkConfig');
  const l = integer(config.l, '$.clkConfig.l', 8, MAX_BITS);
  if (l % 8 !== 0) throw new SchemaError('$.clkConfig.l', 'must be a multiple of 8');
  const xorFolds = foldCount(config);
  const features = array(schema.features, '$.features');
  if (features.length === 0) throw new SchemaError('$.features', 'must list at least one feature');
  const kdf = keyDerivation(config.kdf, features.length);
  const hashBits = l * 2 ** xorFolds;
  const fields: FieldPlan[] = [];
  const seen = new Set<string>();
  features.forEach((feature, index) => {
    const path = `$.features[${index}]`;
    const spec = object(feature, path);
    onlyKeys(spec, spec.ignored === true ? ['identifier', 'ignored', 'description'] : FEATURE_KEYS, path);
    const identifier = string(spec.identifier, `${path}.identifier`);
    if (seen.has(identifier)) throw new SchemaError(`${path}.identifier`, `duplicate identifier "${identifier}"`);
    seen.add(identifier);
    if (spec.ignored === true) return;
    fields.push(
      version === 3
        ? v3Field(spec, identifier, index, path, hashBits)
        : v2Field(spec, identifier, index, path, hashBits, config),
    );
  });
  if (fields.length === 0) throw new SchemaError('$.features', 'every feature is ignored: nothing to encode');
  return {
    dialect: version === 3 ? 'clkhash-v3' : 'clkhash-v2',
    filterBits: l,
    hashBits,
    hardening: { ...NO_HARDENING, xorFolds },
    kdf,
    fields,
    // clkhash's schema has no place for block keys.
    blocking: null,
    fingerprint,
  };
}

// clkhash documents `xorFolds` but its loader reads only `xor_folds`; blindlink folds for either.
function foldCount(config: JsonObject): number {
  const snake = config.xor_folds === undefined ? undefined : integer(config.xor_folds, '$.clkConfig.xor_folds', 0, 8);
  const camel = config.xorFolds === undefined ? undefined : integer(config.xorFolds, '$.clkConfig.xorFolds', 0, 8);
  if (snake !== undefined && camel !== undefined && snake !== camel) {
    throw new SchemaError('$.clkConfig.xorFolds', 'disagrees with $.clkConfig.xor_folds; give one of them');
  }
  return snake ?? camel ?? 0;
}

function keyDerivation(value: Json | undefined, slots: number): KeyDerivation {
  const kdf = object(value, '$.clkConfig.kdf');
  onlyKeys(kdf, KDF_KEYS, '$.clkConfig.kdf');
  oneOf(kdf.type, '$.clkConfig.kdf.type', ['HKDF']);
  const hash = kdf.hash === undefined ? 'SHA256' : oneOf(kdf.hash, '$.clkConfig.kdf.hash', ['SHA256', 'SHA512'] as const);
  return {
    hash,
    salt: kdf.salt === undefined ? new Uint8Array(0) : base64(kdf.salt, '$.clkConfig.kdf.salt'),
    info: kdf.info === undefined ? new Uint8Array(0) : base64(kdf.info, '$.clkConfig.kdf.info'),
    keySize: kdf.keySize === undefined ? 64 : integer(kdf.keySize, '$.clkConfig.kdf.keySize', 1, 64),
    slots,
  };
}

function v3Field(spec: JsonObject, identifier: string, slot: number, path: string, hashBits: number): FieldPlan {
  const hashing = object(spec.hashing, `${path}.hashing`);
  onlyKeys(hashing, ['comparison', 'strategy', 'hash', 'missingValue'], `${path}.hashing`);
  const comparison = object(hashing.comparison, `${path}.hashing.comparison`);
  const strategy = object(hashing.strategy, `${path}.hashing.strategy`);
  onlyKeys(strategy, ['bitsPerToken', 'bitsPerFeature'], `${path}.hashing.strategy`);
  let bits: BitBudget;
  if (strategy.bitsPerToken !== undefined) {
    bits = { perToken: integer(strategy.bitsPerToken, `${path}.hashing.strategy.bitsPerToken`, 0, 4096) };
  } else if (strategy.bitsPerFeature !== undefined) {
    bits = { perField: integer(strategy.bitsPerFeature, `${path}.hashing.strategy.bitsPerFeature`, 0, 65536) };
  } else {
    throw new SchemaError(`${path}.hashing.strategy`, 'needs bitsPerToken or bitsPerFeature');
  }
  return {
    name: identifier,
    column: identifier,
    keySlot: slot,
    prepare: { type: 'clkhash', format: clkhashFormat(spec.format, `${path}.format`) },
    missing: missingRule(hashing.missingValue, `${path}.hashing.missingValue`),
    tokeniser: comparisonTokeniser(comparison, `${path}.hashing.comparison`),
    bits,
    hash: tokenHash(hashing.hash, `${path}.hashing.hash`, hashBits),
  };
}

function v2Field(
  spec: JsonObject,
  identifier: string,
  slot: number,
  path: string,
  hashBits: number,
  config: JsonObject,
): FieldPlan {
  const hashing = object(spec.hashing, `${path}.hashing`);
  onlyKeys(hashing, ['ngram', 'positional', 'strategy', 'hash', 'missingValue'], `${path}.hashing`);
  const q = integer(hashing.ngram, `${path}.hashing.ngram`, 0, 16);
  const positional = hashing.positional === undefined ? false : boolean(hashing.positional, `${path}.hashing.positional`);
  const strategy = object(hashing.strategy, `${path}.hashing.strategy`);
  onlyKeys(strategy, ['k', 'numBits'], `${path}.hashing.strategy`);
  let bits: BitBudget;
  if (strategy.k !== undefined) bits = { perToken: integer(strategy.k, `${path}.hashing.strategy.k`, 0, 4096) };
  else if (strategy.numBits !== undefined) bits = { perField: integer(strategy.numBits, `${path}.hashing.strategy.numBits`, 0, 65536) };
  else throw new SchemaError(`${path}.hashing.strategy`, 'needs k or numBits');
  const hashSpec = hashing.hash ?? (isObject(config.hash) ? config.hash : undefined);
  return {
    name: identifier,
    column: identifier,
    keySlot: slot,
    prepare: { type: 'clkhash', format: clkhashFormat(spec.format, `${path}.format`) },
    missing: missingRule(hashing.missingValue, `${path}.hashing.missingValue`),
    tokeniser: { type: 'qgram', q, padded: true, positional },
    bits,
    hash: tokenHash(hashSpec, `${path}.hashing.hash`, hashBits),
  };
}

function comparisonTokeniser(comparison: JsonObject, path: string): Tokeniser {
  const type = oneOf(comparison.type, `${path}.type`, ['ngram', 'exact', 'numeric']);
  if (type === 'exact') {
    onlyKeys(comparison, ['type'], path);
    return { type: 'exact' };
  }
  if (type === 'numeric') {
    throw new SchemaError(`${path}.type`, 'clkhash numeric comparison is not supported yet; use a blindlink schema with a "numeric" tokeniser');
  }
  onlyKeys(comparison, ['type', 'n', 'positional'], path);
  const q = integer(comparison.n, `${path}.n`, 1, 16);
  const positional = comparison.positional === undefined ? false : boolean(comparison.positional, `${path}.positional`);
  return { type: 'qgram', q, padded: true, positional };
}

function tokenHash(value: Json | undefined, path: string, hashBits: number): TokenHash {
  const spec = value === undefined ? { type: 'blakeHash' } : object(value, path);
  const type = oneOf(spec.type, `${path}.type`, ['blakeHash', 'doubleHash']);
  onlyKeys(spec, type === 'doubleHash' ? ['type', 'prevent_singularity'] : ['type'], path);
  if (type === 'doubleHash') {
    const prevent = spec.prevent_singularity === undefined ? false : boolean(spec.prevent_singularity, `${path}.prevent_singularity`);
    return { type: 'double', preventSingularity: prevent };
  }
  if ((hashBits & (hashBits - 1)) !== 0) throw new SchemaError(path, `blakeHash needs a power-of-two filter length, got ${hashBits}`);
  return { type: 'blake2b' };
}

function missingRule(value: Json | undefined, path: string): FieldPlan['missing'] {
  if (value === undefined) return null;
  const spec = object(value, path);
  onlyKeys(spec, ['sentinel', 'replaceWith'], path);
  const sentinel = string(spec.sentinel, `${path}.sentinel`);
  const replaceWith = spec.replaceWith === undefined || spec.replaceWith === null ? undefined : string(spec.replaceWith, `${path}.replaceWith`);
  return { values: [sentinel], replaceWith };
}

function clkhashFormat(value: Json | undefined, path: string): ClkhashFormat {
  const format = object(value, path);
  const type = oneOf(format.type, `${path}.type`, ['string', 'integer', 'date', 'enum']);
  switch (type) {
    case 'string': {
      onlyKeys(format, ['type', 'encoding', 'case', 'minLength', 'maxLength', 'pattern', 'description'], path);
      const encoding = format.encoding === undefined ? 'utf-8' : string(format.encoding, `${path}.encoding`);
      if (!['utf-8', 'utf8'].includes(encoding.toLowerCase())) throw new SchemaError(`${path}.encoding`, 'only utf-8 is supported');
      const pattern = format.pattern === undefined ? undefined : string(format.pattern, `${path}.pattern`);
      if (pattern !== undefined) {
        // clkhash's textPatternFormat has no case or length: they would go silently unchecked.
        for (const key of ['case', 'minLength', 'maxLength']) {
          if (format[key] !== undefined) throw new SchemaError(`${path}.${key}`, 'cannot be combined with "pattern" (clkhash checks only the pattern)');
        }
        const matcher = fullMatcher(pattern);
        if (matcher instanceof Error) throw new SchemaError(`${path}.pattern`, matcher.message);
      }
      const minLength = format.minLength === undefined ? undefined : integer(format.minLength, `${path}.minLength`, 0, 1e9);
      const maxLength = format.maxLength === undefined ? undefined : integer(format.maxLength, `${path}.maxLength`, 1, 1e9);
      if (minLength !== undefined && maxLength !== undefined && minLength > maxLength) {
        throw new SchemaError(`${path}.minLength`, `is greater than maxLength (${minLength} > ${maxLength}): no value could pass`);
      }
      return {
        type,
        pattern,
        case: format.case === undefined ? undefined : oneOf(format.case, `${path}.case`, ['lower', 'upper', 'mixed'] as const),
        minLength,
        maxLength,
      };
    }
    case 'integer': {
      onlyKeys(format, ['type', 'minimum', 'maximum', 'description'], path);
      const minimum = format.minimum === undefined ? undefined : integer(format.minimum, `${path}.minimum`, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
      const maximum = format.maximum === undefined ? undefined : integer(format.maximum, `${path}.maximum`, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
      if (minimum !== undefined && maximum !== undefined && minimum > maximum) {
        throw new SchemaError(`${path}.minimum`, `is greater than maximum (${minimum} > ${maximum}): no value could pass`);
      }
      return { type, minimum, maximum };
    }
    case 'enum':
      onlyKeys(format, ['type', 'values', 'description'], path);
      return { type, values: array(format.values, `${path}.values`).map((v, i) => string(v, `${path}.values[${i}]`)) };
    case 'date': {
      onlyKeys(format, ['type', 'format', 'description'], path);
      const pattern = string(format.format, `${path}.format`);
      if (!/^(?:[^%]|%[Yymd%bB])*$/.test(pattern)) throw new SchemaError(`${path}.format`, 'supports only %Y %y %m %d %b %B');
      return { type, format: pattern };
    }
  }
}
