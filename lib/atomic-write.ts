import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes to a temp file beside `file`, then renames it into place: a reader (the download endpoint, a
 * retried activity, another worker) sees the old file or the whole new one, never half of one, and a
 * retried or re-delivered activity overwrites its result instead of adding a second one.
 */
export async function writeAtomically(
  file: string,
  write: (tempPath: string) => Promise<void>,
): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  try {
    await write(tmp);
    await fs.rename(tmp, file);
  } catch (error) {
    await fs.rm(tmp, { force: true });
    throw error;
  }
}

/**
 * Writes `file` unless it exists, atomically: written to a temp file, then hard-linked into place, which fails
 * when another writer got there first. Resolves true when this call wrote it. For results that must not change
 * once read (a salvage's pieces: two attempts racing keep the first, and both return what it says).
 */
export async function writeOnce(file: string, write: (tempPath: string) => Promise<void>): Promise<boolean> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  try {
    await write(tmp);
    await fs.link(tmp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/** A sibling temp name unique across processes and hosts sharing the volume. */
export function tempName(file: string): string {
  return `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}
