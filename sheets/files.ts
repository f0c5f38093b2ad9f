/** File plumbing every entry point shares: existence checks, atomic writes, and the error mapping. */
import { randomUUID } from 'node:crypto';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

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
 * Writes to a temp file beside `outPath`, then renames it into place: a reader (the download endpoint, a
 * retried activity) sees the old file or the whole new one, never half of one.
 */
export async function writeAtomically(
  outPath: string,
  write: (tempPath: string) => Promise<void>,
): Promise<void> {
  const tempPath = join(dirname(outPath), `.${basename(outPath)}.${randomUUID()}.tmp`);
  try {
    await write(tempPath);
    await rename(tempPath, outPath);
  } catch (error) {
    await rm(tempPath, { force: true });
    throw error;
  }
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
