// How every command ends: user errors become one line on stderr and exit 1, usage errors exit 2,
// anything else is a bug and keeps its stack trace.
import { CommanderError, InvalidArgumentError } from 'commander';
import { UserError } from '../errors.js';

/** A number from the command line; anything else, or a value outside the range, is a usage error (exit 2). */
export function numberIn(name: string, text: string, test: (value: number) => boolean, range: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || !test(value)) {
    throw new UserError(`${name} must be ${range}, got ${JSON.stringify(text.slice(0, 40))}`, 2);
  }
  return value;
}

/** Wraps a command action so that a UserError prints `blindlink: <message>` and sets the exit code. */
export function action<Args extends unknown[]>(run: (...args: Args) => Promise<void>): (...args: Args) => Promise<void> {
  return async (...args: Args) => {
    try {
      await run(...args);
    } catch (error) {
      reportError(error);
    }
  };
}

/** Longest message printed: enough for two paths and a reason, short enough to read at a glance. */
export const MAX_MESSAGE_CHARS = 500;

/**
 * `text` as one printable line of bounded length: control characters (a path or schema name can
 * hold a newline) become spaces, and a long message is cut with an ellipsis.
 */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ');
  return flat.length <= MAX_MESSAGE_CHARS ? flat : `${flat.slice(0, MAX_MESSAGE_CHARS - 1)}…`;
}

/** A warning on stderr: `blindlink: warning: ...`, one line. */
export function warn(message: string): void {
  process.stderr.write(`blindlink: warning: ${oneLine(message)}\n`);
}

/** A message's lines for stderr: one, plus the "  - reason" lines a service refusal lists (at most 50). */
function messageLines(message: string): string[] {
  const [headline, ...reasons] = message.split('\n  - ');
  return [`blindlink: ${oneLine(headline)}`, ...reasons.slice(0, 50).map((reason) => `  - ${oneLine(reason)}`)];
}

export function reportError(error: unknown): void {
  if (error instanceof UserError) {
    process.stderr.write(`${messageLines(error.message).join('\n')}\n`);
    process.exitCode = error.exitCode;
    return;
  }
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
    return;
  }
  throw error;
}

/** Parses a positive integer option such as --workers; a bad value is a usage error. */
export function positiveInteger(name: string, max = 1024): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1 || parsed > max) {
      throw new InvalidArgumentError(`${name} must be an integer between 1 and ${max}.`);
    }
    return parsed;
  };
}
