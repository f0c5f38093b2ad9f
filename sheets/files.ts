/** File plumbing every entry point shares: existence checks and the error mapping. */
import { stat } from 'node:fs/promises';

import { DomainError, InputFileNotFoundError, InvalidWorkbookError } from '../domain/errors.js';

/** The file's size; `InputFileNotFoundError` (naming the user's file, not the stored path) when it is gone. */
export async function assertFile(path: string, displayName: string): Promise<number> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new InputFileNotFoundError(displayName);
    throw error;
  }
  if (!info.isFile()) throw new InvalidWorkbookError(displayName, 'it is not a file');
  return info.size;
}

/**
 * Parse failures become `InvalidWorkbookError` (retrying cannot fix the file); I/O failures stay as they are
 * (a retry may well succeed), and so do domain errors.
 */
export function asWorkbookError(error: unknown, displayName: string, context = ''): unknown {
  if (error instanceof DomainError) return error;
  if ((error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')
    return new InputFileNotFoundError(displayName);
  if (isIoError(error)) return error;
  return new InvalidWorkbookError(
    displayName,
    context + (error instanceof Error ? error.message : String(error)),
  );
}

/** Node's system errors (EIO, EMFILE, ENOSPC …) name the call that failed. */
function isIoError(error: unknown): boolean {
  return typeof (error as NodeJS.ErrnoException | undefined)?.syscall === 'string';
}
