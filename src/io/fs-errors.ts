// File-system failures as the few words a user can act on ("no such file", "is a directory"),
// so every reader and writer says the same thing for the same code and none prints a stack trace.

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent folder is not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  ENXIO: 'no such device or address',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many symbolic links',
  EFBIG: 'file too large',
  ERR_FS_FILE_TOO_LARGE: 'file too large to read at once',
};

/** True for an error carrying a Node.js error code (ENOENT, EISDIR...). */
export function hasCode(error: unknown): error is NodeJS.ErrnoException & { code: string } {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string';
}

/**
 * The reason in words, with the code: `no such file (ENOENT)`; `error` for anything without a code.
 *
 * @example throw new UserError(`${path}: cannot read input (${fsReason(error)})`);
 */
export function fsReason(error: unknown): string {
  if (!hasCode(error)) return 'error';
  const words = REASONS[error.code];
  return words === undefined ? error.code : `${words}, ${error.code}`;
}
