import fs from 'node:fs/promises';
import path from 'node:path';
import { JobNotFoundError } from '../domain/errors.js';
import { writeAtomically, writeOnce } from './atomic-write.js';

/**
 * Everything a job keeps on disk, under DATA_DIR/jobs/<jobId>/. Workers, the API and the CLI share it, so
 * DATA_DIR must be one shared volume when they run on different hosts. Writes are atomic (`writeAtomically`).
 */

const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{2,99}$/;

export function isValidJobId(id: string): boolean {
  return JOB_ID.test(id);
}

export class JobStore {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(path.resolve(dataDir), 'jobs');
  }

  /** The job's folder. Ids are checked against a strict pattern, so an id can never name another path. */
  dir(jobId: string): string {
    if (!isValidJobId(jobId)) throw new JobNotFoundError(jobId);
    return path.join(this.root, jobId);
  }

  file(jobId: string, name: string): string {
    return path.join(this.dir(jobId), name);
  }

  batchFile(jobId: string, index: number): string {
    return path.join(this.dir(jobId), 'batches', `${paddedIndex(index)}.json`);
  }

  resultFile(jobId: string, index: number): string {
    return path.join(this.dir(jobId), 'results', `${paddedIndex(index)}.json`);
  }

  /** The folder of a batch's salvage pieces (see domain/salvage.ts), one file per request, named by its ids. */
  piecesDir(jobId: string, index: number): string {
    return path.join(this.dir(jobId), 'pieces', paddedIndex(index));
  }

  /** `key` comes from `pieceKey`: digits, a dash and hex digits only. */
  pieceFile(jobId: string, index: number, key: string): string {
    if (!/^[0-9a-f-]{1,40}$/.test(key)) throw new Error(`not a piece key: ${key}`);
    return path.join(this.piecesDir(jobId, index), `${key}.json`);
  }

  /** A request's failed attempts in earlier runs (see activities/stored.ts `attemptsSoFar`); `key` as for pieces. */
  attemptsFile(jobId: string, index: number, key: string): string {
    if (!/^[0-9a-f-]{1,40}$/.test(key)) throw new Error(`not a piece key: ${key}`);
    return path.join(this.dir(jobId), 'attempts', `${paddedIndex(index)}-${key}.json`);
  }

  async readJson<T>(jobId: string, name: string): Promise<T> {
    return readJsonFile<T>(this.file(jobId, name), jobId);
  }

  async readJsonIfExists<T>(file: string): Promise<T | undefined> {
    try {
      return JSON.parse(await fs.readFile(file, 'utf8')) as T;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async writeJson(file: string, value: unknown): Promise<void> {
    const data = JSON.stringify(value);
    await writeAtomically(file, (tmp) => fs.writeFile(tmp, data));
  }

  /** Writes `value` as JSON unless `file` exists; true when this call wrote it. */
  async writeJsonOnce(file: string, value: unknown): Promise<boolean> {
    const data = JSON.stringify(value);
    return writeOnce(file, (tmp) => fs.writeFile(tmp, data));
  }

  async writeBytes(jobId: string, name: string, bytes: Uint8Array): Promise<string> {
    const target = this.file(jobId, name);
    await writeAtomically(target, (tmp) => fs.writeFile(tmp, bytes));
    return target;
  }

  /**
   * Removes the job's folder. `mark`: the job was deleted by a person, and stays hidden (the list, GET)
   * while Temporal deletes its workflow in the background; starting it again clears the mark.
   */
  async remove(jobId: string, options: { mark?: boolean } = {}): Promise<void> {
    if (options.mark) {
      await fs.mkdir(this.deletedDir, { recursive: true });
      await fs.writeFile(path.join(this.deletedDir, jobId), '');
    }
    await fs.rm(this.dir(jobId), { recursive: true, force: true });
  }

  async isDeleted(jobId: string): Promise<boolean> {
    if (!isValidJobId(jobId)) return false;
    return fs.access(path.join(this.deletedDir, jobId)).then(
      () => true,
      () => false,
    );
  }

  /** The ids of every job deleted by a person. */
  async deletedJobs(): Promise<Set<string>> {
    const names = await fs.readdir(this.deletedDir).catch(() => []);
    return new Set(names.filter(isValidJobId));
  }

  async unmarkDeleted(jobId: string): Promise<void> {
    await fs.rm(path.join(this.deletedDir, this.checked(jobId)), { force: true });
  }

  private get deletedDir(): string {
    return path.join(this.root, '..', 'deleted-jobs');
  }

  private checked(jobId: string): string {
    this.dir(jobId);
    return jobId;
  }
}

export async function readJsonFile<T>(file: string, jobId: string): Promise<T> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new JobNotFoundError(jobId);
    throw error;
  }
}

/** A numbered file's name: its index as six digits, zero-padded, so the names sort in order. */
export function paddedIndex(index: number): string {
  return String(index).padStart(6, '0');
}
