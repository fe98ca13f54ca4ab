// Per-record field presence (opt-in, `encode --record-presence`): one bit per schema field, set
// when the record has a value for it. It lets the linkage unit check a policy's "required
// identifiers" without plaintext, and reveals to it which fields each record lacks, nothing else.
import { makePreparer } from './prepare.js';
import type { EncodingPlan, FieldPlan } from './types.js';

/** Bytes per record of the presence bitmask for `fields` schema fields. */
export function presenceBytes(fields: number): number {
  return Math.ceil(fields / 8);
}

/**
 * Whether a raw value counts as present for `field`: what the encoder would hash, before any
 * `replaceWith` stands in for a missing value (a replacement is not an identifier the record has).
 */
function presenceTest(field: FieldPlan): (raw: string) => boolean {
  if (field.prepare.type === 'clkhash') {
    const sentinels = new Set(field.missing?.values ?? []);
    return (raw) => raw.length > 0 && !sentinels.has(raw);
  }
  const prepare = makePreparer({ ...field, missing: field.missing === null ? null : { values: field.missing.values } });
  return (raw) => {
    const value = prepare(raw);
    return typeof value === 'string' && value.length > 0;
  };
}

/**
 * Writes a record's presence bitmask (values in plan field order) to `out[offset ..]`. Field i is
 * bit i: byte i >> 3, mask 0x80 >> (i & 7), the filters' most-significant-first order.
 *
 * @example const record = presenceRecorder(plan); record(['ann', '', '1990-01-02'], out, 0);
 */
export function presenceRecorder(plan: EncodingPlan): (values: readonly string[], out: Uint8Array, offset: number) => void {
  const tests = plan.fields.map(presenceTest);
  const width = presenceBytes(tests.length);
  return (values, out, offset) => {
    out.fill(0, offset, offset + width);
    for (let f = 0; f < tests.length; f++) if (tests[f](values[f])) out[offset + (f >> 3)] |= 0x80 >>> (f & 7);
  };
}

/** True when record `row`'s bitmask has field `field` set. */
export function isPresent(bitmasks: Uint8Array, width: number, row: number, field: number): boolean {
  return (bitmasks[row * width + (field >> 3)] & (0x80 >>> (field & 7))) !== 0;
}
