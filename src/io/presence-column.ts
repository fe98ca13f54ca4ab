// The optional `present` column of an encoded Arrow file: FixedSizeBinary(ceil(fields / 8)), one
// presence bitmask per record (src/presence.ts), with the schema's field names in bit order as
// metadata `blindlink.presence_fields` (a JSON array). Kept apart from the other columns so the
// writer and reader each need one call to carry it.
import { Field, FixedSizeBinary, makeData, Type, type Data, type Schema } from 'apache-arrow';
import { UserError } from '../errors.js';
import { presenceBytes } from '../presence.js';

export const PRESENCE_COLUMN = 'present';
export const PRESENCE_FIELDS_KEY = 'blindlink.presence_fields';

/** The column's Arrow field, for a schema whose metadata names `fields`. */
export function presenceField(fields: readonly string[]): Field {
  return new Field(PRESENCE_COLUMN, new FixedSizeBinary(presenceBytes(fields.length)), false);
}

/** The column's data for one batch of `length` records. */
export function presenceData(bitmasks: Uint8Array | null | undefined, length: number, fields: readonly string[]): Data {
  const width = presenceBytes(fields.length);
  if (!bitmasks || bitmasks.length !== length * width) throw new RangeError(`a batch of ${length} records needs ${length * width} bytes of presence bitmasks`);
  return makeData({ type: new FixedSizeBinary(width), length, nullCount: 0, data: bitmasks });
}

/**
 * The field names the file's presence column covers, or null when it has none; a column without
 * the metadata (or the reverse), or of the wrong width, is an error rather than bits read wrong.
 */
export function presenceFieldsOf(path: string, schema: Schema): string[] | null {
  const field = schema.fields.find((f) => f.name === PRESENCE_COLUMN);
  const raw = schema.metadata.get(PRESENCE_FIELDS_KEY);
  if (field === undefined && raw === undefined) return null;
  if (field === undefined) throw new UserError(`${path}: metadata ${PRESENCE_FIELDS_KEY} without a '${PRESENCE_COLUMN}' column`);
  if (raw === undefined) throw new UserError(`${path}: column '${PRESENCE_COLUMN}' without ${PRESENCE_FIELDS_KEY} metadata`);
  let names: unknown;
  try {
    names = JSON.parse(raw);
  } catch {
    names = null;
  }
  if (!Array.isArray(names) || names.length === 0 || !names.every((name) => typeof name === 'string')) {
    throw new UserError(`${path}: metadata ${PRESENCE_FIELDS_KEY} must be a JSON array of field names`);
  }
  const width = presenceBytes(names.length);
  if (field.type.typeId !== Type.FixedSizeBinary || (field.type as FixedSizeBinary).byteWidth !== width) {
    throw new UserError(`${path}: column '${PRESENCE_COLUMN}' must be FixedSizeBinary(${width}) for ${names.length} fields, found ${String(field.type)}`);
  }
  return names as string[];
}
