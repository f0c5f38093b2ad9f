/**
 * The API's JSON as the page reads it (the bodies /openapi.json describes). Types only: the browser never
 * loads this file; the modules import it in JSDoc (`@import`). Where the page reads a server type as it is
 * (a job's progress, phase, stats and start, a draft's progress), it imports it from domain/, so
 * `tsc -p api/public` checks the page against the server's own type (and those domain/ files with it).
 * test/unit/page-types.test.ts checks that the routes' zod schemas and the server's types still fit the ones
 * written out here.
 */

import type { CodeframeProgress } from '../../../domain/codeframe-job.js';
import type { JobPhase, JobProgress, JobStart, JobStats } from '../../../domain/job.js';
import type { SheetFormat } from '../../../domain/sheet-format.js';

export type { CodeframeProgress, JobPhase, JobProgress, JobStart, JobStats };

/** A problem body (RFC 9457 shape), or what the page says in its place (no status: a check of its own). */
export interface ProblemFields {
  readonly detail: string;
  /** The HTTP status; 0 when the server could not be reached. */
  readonly status?: number;
  readonly code?: string;
  /** The request field it is about (`file`, `categories`, `batchSize`…). */
  readonly field?: string;
  /** Every refused field, when the request failed validation (the first is `field`'s). */
  readonly errors?: readonly FieldProblem[];
}

/** One refused field of a request. */
export interface FieldProblem {
  readonly field: string;
  readonly code: string;
  readonly detail: string;
}

/** `GET /settings`: the server's job defaults and limits. */
export interface Settings {
  readonly defaults: {
    readonly batchSize: number | 'auto';
    readonly concurrency: number;
    readonly parallel: boolean;
    readonly minResponsesForParallel: number;
    readonly model: string;
    readonly temperature: number;
    readonly multi: boolean;
    readonly maxCodes: number;
    readonly batchApi: boolean;
  };
  readonly limits: {
    readonly maxUploadBytes: number;
    readonly maxBatchSize: number;
    readonly maxConcurrency: number;
    readonly maxCodes: number;
  };
  readonly temporalUiUrl: string | null;
  /** true: no OPENAI_API_KEY, the simulator codes (a dry run); null: unknown here. */
  readonly simulated: boolean | null;
}

export interface PreviewSheet {
  readonly name: string;
  /** 1-based tab index. */
  readonly index: number;
  readonly state: 'visible' | 'hidden' | 'veryHidden';
  /** The last row of the sheet's declared range (xlsx, when recorded): a size hint. */
  readonly lastRow?: number;
}

export interface PreviewColumn {
  readonly letter: string;
  readonly header: string;
  /** The question row's text in this column, when the sheet has a question row. */
  readonly question?: string;
}

/** `POST /jobs/preview`: the file's sheets, and the columns and first data rows of one of them. */
export interface Preview {
  readonly fileName: string;
  readonly format: SheetFormat;
  readonly sheets: readonly PreviewSheet[];
  /** The sheet shown. */
  readonly sheet: string;
  readonly sheetIndex: number;
  /** Absent when the sheet is empty. */
  readonly headerRow?: number;
  readonly questionRow?: number;
  readonly columns: readonly PreviewColumn[];
  /** `cells[i]` belongs to `columns[i]`. */
  readonly rows: ReadonlyArray<{ readonly row: number; readonly cells: readonly string[] }>;
}

/** A workflow status as the API names it; `UNKNOWN` is also what the page calls a job the server lost. */
export type JobStatus =
  | 'RUNNING'
  | 'COMPLETED'
  | 'FAILED'
  | 'CANCELLED'
  | 'TERMINATED'
  | 'TIMED_OUT'
  | 'CONTINUED_AS_NEW'
  | 'PAUSED'
  | 'UNSPECIFIED'
  | 'UNKNOWN';

/** `POST /jobs/estimate`: what a job would cost; the costs null when the model has no price. */
export interface Estimate {
  readonly model: string;
  readonly requests: number;
  readonly rows: number;
  readonly answers: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cost: { readonly sync: number | null; readonly batch: number | null };
  readonly priceSource: string | null;
}

export interface JobLinks {
  readonly self: string;
  readonly events: string;
  readonly result: string;
  readonly cancel: string;
  /** The result in figures (`GET /jobs/:id/summary`), once the job has written it. */
  readonly summary: string;
  /** The job in the Temporal UI, when the server knows its address (TEMPORAL_UI_URL). */
  readonly temporal?: string;
}

/** An entry of `GET /jobs`, from the workflow's search attributes (null until the job sets them). */
export interface JobListItem {
  readonly jobId: string;
  readonly status: JobStatus;
  /** The name given at the start, if any. */
  readonly name: string | null;
  readonly fileName: string | null;
  readonly column: string | null;
  readonly phase: JobPhase | null;
  readonly rows: number | null;
  /** Fallback batches. */
  readonly fallbacks: number | null;
  readonly createdAt: string;
  readonly closedAt: string | null;
  readonly links: JobLinks;
}

export interface JobListPage {
  readonly jobs: readonly JobListItem[];
  readonly nextPageToken: string | null;
}

/** `GET /jobs/:id`, PATCH's answer and the stream's `done` event. */
export interface JobView {
  readonly jobId: string;
  readonly status: JobStatus;
  /** The name given at the start, if any. */
  readonly name: string | null;
  readonly fileName?: string;
  readonly column?: string;
  /** Null when neither the progress nor a stored result says. */
  readonly simulated: boolean | null;
  readonly createdAt: string;
  readonly closedAt: string | null;
  readonly progress: JobProgress | null;
  readonly stats: JobStats | null;
  /** Agreement with the human-coded column, once a job with one has ended. */
  readonly quality?: JobQuality;
  /** Why a failed job failed. */
  readonly error?: string;
  /** What it was started with, in `POST /jobs`'s fields; absent when its files are gone. */
  readonly startedWith?: JobStart;
  readonly links: JobLinks;
}

/** The Quality sheet's figures (`quality` of a job view). */
export interface JobQuality {
  readonly goldHeader: string;
  readonly rows: number;
  readonly exactAgreement: number | null;
  readonly kappa: number | null;
  readonly alpha: number | null;
  readonly macroF1: number | null;
}

/** A line of a job's result: a net, a category, the fallback, or a label the codeframe does not have. */
export interface ResultCategory {
  readonly kind: 'net' | 'category' | 'fallback' | 'unknown';
  readonly code: number | null;
  readonly label: string;
  /** The net a category is counted in. */
  readonly net: string | null;
  readonly respondents: number;
  /** Of the base, 0–1. */
  readonly share: number;
  readonly examples: readonly string[];
}

/** `GET /jobs/:id/summary`: the workbook's Summary sheet in figures. */
export interface JobResultSummary {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly simulated: boolean;
  readonly partial: boolean;
  readonly ended: 'completed' | 'cancelled' | 'failed';
  /** The SIMULATED and PARTIAL warnings, as the Summary sheet starts with them. */
  readonly notices: readonly string[];
  readonly multi: boolean;
  readonly base: { readonly respondents: number; readonly description: string };
  readonly categories: readonly ResultCategory[];
  readonly rows: {
    readonly total: number;
    readonly model: number;
    readonly file: number;
    readonly invalid: number;
    readonly fallback: number;
    readonly empty: number;
    readonly notReached: number;
  };
  readonly agreement: JobQuality | null;
}

/** `POST /jobs` (202). */
export interface StartedJob {
  readonly jobId: string;
  readonly status: 'RUNNING';
  readonly links: JobLinks;
}

/** `POST /jobs` (200): an identical job is running or done, so nothing started (send `force=true`). */
export interface DuplicateJob {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly duplicate: true;
  readonly links: JobLinks;
}

/** `POST /jobs/:id/cancel` (202). */
export interface CancellingJob {
  readonly jobId: string;
  readonly status: 'CANCELLING';
  readonly links: JobLinks;
}

/** `PATCH /jobs/:id`'s body. */
export interface JobChange {
  readonly paused?: boolean;
  readonly concurrency?: number;
  /** The cost cap in USD; null lifts it. */
  readonly maxCost?: number | null;
}

/** The events of `GET /jobs/:id/events` the page acts on, parsed. */
export type JobEvent =
  | { readonly event: 'progress'; readonly progress: JobProgress }
  | { readonly event: 'done'; readonly view: JobView }
  /** The server is draining: reconnect after `retry` ms (0: not said). */
  | { readonly event: 'shutdown'; readonly retry: number };

/** One code of a written draft. */
export interface CodeframeCode {
  readonly code: number;
  readonly label: string;
  readonly description: string;
  readonly net?: string;
  /** Estimated share of answers, 0–1. */
  readonly share: number;
  readonly examples: readonly string[];
}

/** The written draft (`codeframe` in `GET /codeframes/:id` once completed). */
export interface CodeframeReport {
  readonly simulated: boolean;
  readonly codes: readonly CodeframeCode[];
  readonly nets: ReadonlyArray<{ readonly name: string; readonly share: number }>;
  readonly other: { readonly label: string; readonly share: number };
  readonly folded: ReadonlyArray<{ readonly label: string; readonly share: number }>;
  readonly coverage: number;
  /** Answers measured: the base of the shares. */
  readonly base: number;
}

export interface CodeframeLinks {
  readonly self: string;
  readonly result: string;
  readonly cancel: string;
}

/** `GET /codeframes/:id`. */
export interface CodeframeView {
  readonly codeframeId: string;
  readonly status: JobStatus;
  readonly progress: CodeframeProgress | null;
  readonly codeframe: CodeframeReport | null;
  /** Why a failed draft failed. */
  readonly error?: string;
  readonly links: CodeframeLinks;
}

/** `POST /codeframes` (202). */
export interface StartedCodeframe {
  readonly codeframeId: string;
  readonly status: 'RUNNING';
  readonly links: CodeframeLinks;
}

/** One cell of a banner table: respondents with the code in the column, their share, the mark. */
export interface BannerCell {
  readonly count: number;
  readonly percent: number | null;
  readonly p: number | null;
  readonly mark?: 'higher' | 'lower' | undefined;
}

/** `GET /jobs/:id/tables`: the job's codes and nets by each banner's values. */
export interface JobTables {
  readonly jobId: string;
  readonly header: string;
  readonly tables: ReadonlyArray<{
    readonly banner: string;
    readonly column: string;
    readonly header: string;
    readonly groups?: string | undefined;
    readonly refused?: string | undefined;
    readonly notes: readonly string[];
    readonly table?:
      | {
          readonly columns: ReadonlyArray<{
            readonly label: string;
            readonly total: boolean;
            readonly base: number;
          }>;
          readonly lines: ReadonlyArray<{
            readonly kind: 'code' | 'net';
            readonly label: string;
            readonly cells: readonly BannerCell[];
          }>;
          readonly noBanner: number;
          readonly uncoded: number;
        }
      | undefined;
  }>;
}
