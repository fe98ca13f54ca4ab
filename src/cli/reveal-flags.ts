// What the match-like commands (match with three or more files, dedup, link release) share at the
// command line: --reveal, --epsilon and --out checked together, warnings and progress on stderr.
import { UserError } from '../errors.js';
import type { RevealMode } from '../reveal/release.js';
import { warn } from './run.js';

export interface RevealFlags {
  reveal: RevealMode;
  epsilon?: string;
  out?: string;
}

/**
 * Checks the flags as a whole (exit 2 on a bad combination) and returns the epsilon, null unless
 * noisy-count. `noNoise` is the reason noisy-count is refused here, or null where it is offered;
 * `written` names what --reveal pairs writes (pairs, groups, clusters).
 */
export function checkRevealFlags(flags: RevealFlags, noNoise: string | null, written: string, parse: (text: string) => number): number | null {
  let epsilon: number | null = null;
  if (flags.reveal === 'noisy-count') {
    if (noNoise !== null) throw new UserError(`--reveal noisy-count is not offered ${noNoise}`, 2);
    if (flags.epsilon === undefined) throw new UserError('--reveal noisy-count needs --epsilon', 2);
    epsilon = parse(flags.epsilon);
  } else if (flags.epsilon !== undefined) {
    throw new UserError(`--epsilon applies only to --reveal noisy-count (reveal is ${flags.reveal})`, 2);
  }
  if (flags.reveal === 'pairs' && flags.out === undefined) throw new UserError('--reveal pairs needs --out <file>', 2);
  if (flags.reveal !== 'pairs' && flags.out !== undefined) throw new UserError(`--out applies only to --reveal pairs (reveal is ${flags.reveal}); ${written} are never written by default`, 2);
  return epsilon;
}

/** Warnings always, progress only when stderr is a terminal. */
export function stderrReporters(): { warn: (message: string) => void; progress?: (message: string) => void } {
  return {
    warn,
    progress: process.stderr.isTTY ? (message) => process.stderr.write(`\r${message}\u001b[K`) : undefined,
  };
}

/** Prints a report (JSON or for people), clearing a progress line first. */
export function printReport<T>(report: T, json: boolean | undefined, format: (report: T) => string): void {
  if (process.stderr.isTTY) process.stderr.write('\r\u001b[K');
  process.stdout.write(json ? `${JSON.stringify(report)}\n` : `${format(report)}\n`);
}
