/**
 * A finished job's coded data as an SPSS system file, made when asked (`verbatim classify --out x.sav`, and
 * the API's `GET /jobs/:id/result?format=sav`), not at the end of every job: most jobs are never wanted in
 * SPSS, and the file is built from what the store keeps anyway (the input, the rows' treatment, the batch
 * results), reading the input sheet twice (types and widths first, then the cases). Written once into the
 * job's folder as output.sav and served from there until the job writes its output again.
 */
import fs from 'node:fs/promises';

import { JobResultNotReadyError } from '../domain/errors.js';
import type { JobStore } from '../lib/store.js';
import type { WrittenSav } from '../sheets/index.js';
import { writeCodedSav } from '../sheets/index.js';
import { loadCodedOutput } from './coded-output.js';

export const OUTPUT_SAV = 'output.sav';

export interface JobSav {
  /** The .sav in the job's folder. */
  readonly path: string;
  /** False when an earlier request's file was still current. */
  readonly written: boolean;
  /** What was written, when it was written now. */
  readonly details?: WrittenSav;
}

/**
 * The job's output.sav, written now unless one newer than the job's output is there. Throws
 * `JobResultNotReadyError` while the job has written no output (running, or failed before its end), and
 * `JobNotFoundError` for an unknown job.
 */
export async function writeJobSav(store: JobStore, jobId: string): Promise<JobSav> {
  const path = store.file(jobId, OUTPUT_SAV);
  const result = await fs.stat(store.file(jobId, 'result.json')).catch(() => undefined);
  if (!result) {
    // Unknown jobs say so (job.json is the job); known ones have no output yet.
    await store.readJson(jobId, 'job.json');
    throw new JobResultNotReadyError(jobId);
  }
  const existing = await fs.stat(path).catch(() => undefined);
  if (existing && existing.mtimeMs >= result.mtimeMs) return { path, written: false };
  const { plan, mode, codeframe, rows, coded, sheet } = await loadCodedOutput(store, jobId);
  const details = await writeCodedSav({
    ...sheet,
    outPath: path,
    rows: rows.rows,
    codeframe,
    multi: mode.multi,
    question: plan.question,
    header: plan.header,
    notCoded: coded.notCoded,
  });
  return { path, written: true, details };
}
