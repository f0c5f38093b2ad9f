/**
 * Tables by segment from a job's stored output and its original sheet: written into the workbook's `Tables`
 * sheet by writeOutput (the banners the job was started with), and computed again when asked for other
 * banners after the job (`GET /jobs/:id/tables?by=…`).
 */
import fs from 'node:fs/promises';

import type { BannerTable, Respondent } from '../domain/banner-tables.js';
import { bannerTable } from '../domain/banner-tables.js';
import { codedRows } from '../domain/coded-rows.js';
import { parseBanner } from '../domain/crosstab.js';
import { JobResultNotReadyError } from '../domain/errors.js';
import type { JobStore } from '../lib/store.js';
import { readBannerColumns } from '../sheets/banners.js';
import type { CodedOutput } from './coded-output.js';
import { loadCodedOutput } from './coded-output.js';
import { assignmentsOf } from './stored.js';

export interface JobTables {
  /** The answer column's header: what the tables are of. */
  readonly header: string;
  readonly tables: readonly BannerTable[];
}

/** The crosstab of the job's codes by each banner (`Region`, `NPS=0-6,7-8,9-10`), in the order given. */
export async function tablesOf(loaded: CodedOutput, by: readonly string[]): Promise<BannerTable[]> {
  if (by.length === 0) return [];
  const banners = by.map(parseBanner);
  const { spec, plan, mode, codeframe, rows, outcomes } = loaded;
  const columns = await readBannerColumns(
    { path: loaded.sheet.inputPath, displayName: spec.fileName, format: spec.format, sheet: plan.sheet },
    banners,
  );
  // The respondents as the Summary counts them, with the labels their category cell shows.
  const respondents: Respondent[] = [];
  codedRows({
    codeframe,
    multi: mode.multi,
    assignments: assignmentsOf(rows),
    answer: (a) => outcomes[a],
    codedCells: new Map(rows.codedLabels),
    onRespondent: (row, labels) => respondents.push({ row, labels }),
  });
  return columns.map((c) => bannerTable({ ...c, respondents, codeframe }));
}

/**
 * The tables of a job whose output is written: by `by`, or by the banners it was started with. Throws
 * `JobResultNotReadyError` before the output exists, `JobNotFoundError` for an unknown job, and the banner's
 * own errors (`BannerNotFoundError`, `InvalidBannerGroupsError`) for one that cannot be read.
 */
export async function jobTables(store: JobStore, jobId: string, by?: readonly string[]): Promise<JobTables> {
  const written = await fs.stat(store.file(jobId, 'result.json')).catch(() => undefined);
  if (!written) {
    await store.readJson(jobId, 'job.json'); // an unknown job says so
    throw new JobResultNotReadyError(jobId);
  }
  const loaded = await loadCodedOutput(store, jobId);
  return { header: loaded.plan.header, tables: await tablesOf(loaded, by ?? loaded.spec.by ?? []) };
}
