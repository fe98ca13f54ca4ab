// blindlink's public API: re-exports only. The CLI (src/cli/) is a thin shell over these.
export type { EncodingPlan, FieldPlan, Hardening, TokenHash, Tokeniser } from './types.js';
export { compileSchema, loadSchema } from './schema/load.js';
export { deriveFieldKeys, keyCheckValue, schemaFingerprint } from './keys.js';
export { deriveHardeningKey } from './harden.js';
export { recordEncoder, type RecordEncoder } from './encoder.js';
export { encodeFile, type EncodeOptions, type EncodeSummary } from './encode-file.js';
export { readSecret, writeNewSecret } from './secret.js';
export { readEncodedFile, writeEncodedFile, type EncodedFile, type EncodingMetadata } from './io/encoded-file.js';
export { findCandidates, type Candidates } from './match/candidates.js';
export { chooseThreshold } from './match/auto-threshold.js';
export { matchFiles, type MatchOptions } from './match/match-files.js';
export { greedySolve, type Matching } from './solve/greedy.js';
export type { MatchReport, RevealMode } from './reveal/release.js';
export { synthesize, type SynthOptions } from './synth/write.js';
export { attackFiles } from './attack/suite.js';
export { UserError } from './errors.js';
