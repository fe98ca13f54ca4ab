// clkhash `format.pattern` regexes come from the other party's schema, so they must not be able to
// hang encode: JavaScript's backtracking engine takes exponential time on `(a+)+$` against a long
// value. They run on RE2JS, a pure-JavaScript port of RE2 whose matching is linear in the input;
// patterns that need backtracking (backreferences, lookaround) are refused when the schema loads.
import { RE2JS } from 're2js';

/** Longest pattern accepted: clkhash's own are a few dozen characters; this bounds compile cost. */
export const MAX_PATTERN_LENGTH = 1000;

/**
 * A full-match test for `pattern` (clkhash validates with re.fullmatch), or an Error whose message
 * says why the pattern is refused.
 *
 * @example const test = fullMatcher('[0-9]{4}'); test('1984') === true
 */
export function fullMatcher(pattern: string): ((value: string) => boolean) | Error {
  if (pattern.length > MAX_PATTERN_LENGTH) return new Error(`is longer than ${MAX_PATTERN_LENGTH} characters`);
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern);
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^error parsing regexp: /, '') : 'invalid';
    // The reason quotes the offending part of the pattern: schema text, never record values.
    return new Error(`is not a regular expression blindlink can run in linear time (${reason.slice(0, 120)}); backreferences and lookaround are not supported`);
  }
  return (value) => compiled.matches(value);
}
