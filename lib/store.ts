import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { JobNotFoundError } from '../domain/errors.js';

/**
 * Everything a job keeps on disk, under DATA_DIR/jobs/<jobId>/. Workers, the API and the CLI share it, so
 * DATA_DIR must be one shared volume when they run on different hosts. Writes are atomic (temp file, then
 * rename): a retried or re-delivered activity overwrites its batch result instead of adding a second one.
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
    return path.join(this.dir(jobId), 'batches', `${pad(index)}.json`);
  }

  resultFile(jobId: string, index: number): string {
    return path.join(this.dir(jobId), 'results', `${pad(index)}.json`);
  }

  async exists(jobId: string): Promise<boolean> {
    try {
      await fs.access(this.file(jobId, 'job.json'));
      return true;
    } catch {
      return false;
    }
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
    await writeAtomic(file, JSON.stringify(value));
  }

  async copyIn(jobId: string, source: string, name: string): Promise<string> {
    const target = this.file(jobId, name);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const tmp = tempName(target);
    await fs.copyFile(source, tmp);
    await fs.rename(tmp, target);
    return target;
  }

  async writeBytes(jobId: string, name: string, bytes: Uint8Array): Promise<string> {
    const target = this.file(jobId, name);
    await writeAtomic(target, bytes);
    return target;
  }

  openRead(jobId: string, name: string): NodeJS.ReadableStream {
    return createReadStream(this.file(jobId, name));
  }

  /** Job ids present on disk (those with a job.json), for clean-up and listing without Temporal. */
  async list(): Promise<string[]> {
    try {
      const entries = await fs.readdir(this.root, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory() && isValidJobId(e.name)).map((e) => e.name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  async remove(jobId: string): Promise<void> {
    await fs.rm(this.dir(jobId), { recursive: true, force: true });
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

export async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}

/** A sibling temp name unique across processes and hosts sharing the volume. */
export function tempName(file: string): string {
  return `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

function pad(index: number): string {
  return String(index).padStart(6, '0');
}
