// Errors the user can act on. The CLI prints their message as one line and exits 1;
// anything else is a bug and keeps its stack trace.

/** A problem with the user's input, files or options: exit code 1, one-line message. */
export class UserError extends Error {
  override readonly name = 'UserError';
  /** Exit code the CLI uses: 1 for bad input, 2 for bad usage. */
  readonly exitCode: 1 | 2;

  constructor(message: string, exitCode: 1 | 2 = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Wraps a user error raised while reading a file so the message names the file. */
export function inFile(path: string, message: string): UserError {
  return new UserError(`${path}: ${message}`);
}
