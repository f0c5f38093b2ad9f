import fs from 'node:fs/promises';
import type {
  Client,
  WorkflowExecutionDescription,
  WorkflowExecutionInfo,
  WorkflowExecutionStatusName,
  WorkflowHandle,
} from '@temporalio/client';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { defineSearchAttributeKey } from '@temporalio/common';
import { writeJobSav } from '../activities/export-sav.js';
import type { JobTables } from '../activities/tables.js';
import { jobTables } from '../activities/tables.js';
import { readJobSummary } from '../activities/summary.js';
import type { Category } from '../domain/categories.js';
import { parseBanner } from '../domain/crosstab.js';
import {
  BannerNotFoundError,
  ColumnNotFoundError,
  DomainError,
  GoldColumnNotFoundError,
  InvalidSettingError,
  JobNotFoundError,
  NoAnswersError,
  throwProblems,
} from '../domain/errors.js';
import { priceFor } from '../domain/prices.js';
import type { JobOptions, JobPhase, JobProgress, JobSpec, JobStart, JobStats } from '../domain/job.js';
export type { JobStart } from '../domain/job.js';
import { codingMode } from '../domain/prompt.js';
import type { QualitySummary } from '../domain/quality.js';
import type { ResultSummary } from '../domain/report.js';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes.js';
import { sheetFormatOf } from '../domain/sheet-format.js';
import type { SheetFormat } from '../domain/sheet-format.js';
import type { JobStore } from '../lib/store.js';
import type { ClassifyJobInput } from '../workflows/definitions.js';
import { classifyJobWorkflow } from '../workflows/classify-job.js';
import {
  pauseUpdate,
  progressQuery,
  resumeUpdate,
  setConcurrencyUpdate,
  setMaxCostUpdate,
} from '../workflows/definitions.js';
import type { FileSource } from './ids.js';
import { contentId, randomId, readSource, workflowStatus } from './ids.js';

/**
 * The job service: what the front doors (API, CLI) do with jobs. `JobService` is the narrow interface the API
 * depends on; `createJobService` implements it on a Temporal client (the workflow id is the job id) and the
 * job store, and adds the workflow handle the CLI waits on. API tests that need no workflow use an in-memory
 * implementation (test/helpers/fake-jobs.ts).
 */
export interface JobService {
  /** Stores the file and the job, checks sheet and column, and starts (or resumes) the job. */
  create(request: CreateJobRequest): Promise<CreatedJob>;
  /** The job's status: cheap, for loops and checks. `JobNotFoundError` for an id that names no job. */
  status(jobId: string): Promise<JobStatus>;
  /** Everything known about the job: status, times, live progress or the final stats, why it failed. */
  describe(jobId: string): Promise<JobDescription>;
  /** Jobs newest first (by creation), `limit` of them, after the cursor's job. */
  list(options: { readonly limit: number; readonly after?: JobCursor | undefined }): Promise<JobPage>;
  /** The live progress; rejects while no worker answers (a job starting, or between two runs). */
  progress(jobId: string): Promise<JobProgress>;
  /** The coded file of a completed, cancelled or failed job; undefined when it has none. */
  result(jobId: string, format: ResultFormat): Promise<JobResultFile | undefined>;
  /**
   * Tables by segment of a job whose output is written: by `by`, else by the banners it was started with.
   * `JobResultNotReadyError` before that; the banner's errors for one that cannot be read.
   */
  tables(jobId: string, by?: readonly string[]): Promise<JobTables>;
  /** The figures of that file (its Summary sheet, with example answers); undefined when it has none. */
  summary(jobId: string): Promise<ResultSummary | undefined>;
  /** Changes of a running job. `JobChangeRejectedError` when the job refuses the change. */
  setConcurrency(jobId: string, concurrency: number): Promise<void>;
  pause(jobId: string): Promise<void>;
  resume(jobId: string): Promise<void>;
  /** Sets the cost cap in USD (null lifts it): a job held at its cap goes on when it allows. */
  setMaxCost(jobId: string, maxCost: number | null): Promise<void>;
  /** Asks a running job to stop; the rows already coded are kept in a partial result. */
  cancel(jobId: string): Promise<void>;
  /**
   * Runs a failed, cancelled, terminated or timed-out job again under its id, keeping the rows it coded.
   * `JobChangeRejectedError` for a job that is open or completed.
   */
  retry(jobId: string): Promise<void>;
  /** Deletes an ended job: its workflow (from the list) and its files. `JobChangeRejectedError` while open. */
  remove(jobId: string): Promise<void>;
  /** Resolves when Temporal answers, rejects when it does not. */
  health(): Promise<void>;
  /**
   * The file the job was started with, as it stored it: a draft reads it again (`POST /codeframes` with
   * `jobId`). `JobNotFoundError` when no job keeps one under this id (never started, or deleted).
   */
  input(jobId: string): Promise<JobInput>;
  /**
   * The mistakes in the columns a job would name, in a file on disk, without storing or starting anything
   * (`columnProblems`): a form refused for its settings names its columns' mistakes too.
   */
  checkColumns(input: ColumnCheck): Promise<DomainError[]>;
}

/** A job's status: its workflow's execution status in Temporal. */
export type JobStatus = WorkflowExecutionStatusName;

/** Every status, for schemas: keyed by the type, so a status the SDK adds fails the type-check here. */
export const JOB_STATUSES = Object.keys({
  RUNNING: 0,
  COMPLETED: 0,
  FAILED: 0,
  CANCELLED: 0,
  TERMINATED: 0,
  TIMED_OUT: 0,
  CONTINUED_AS_NEW: 0,
  PAUSED: 0,
  UNSPECIFIED: 0,
  UNKNOWN: 0,
} satisfies Record<JobStatus, 0>) as [JobStatus, ...JobStatus[]];

/** Every phase a job's progress (and its `VerbatimPhase` search attribute) goes through. */
export const JOB_PHASES = Object.keys({
  preparing: 0,
  classifying: 0,
  reviewing: 0,
  writing: 0,
  done: 0,
  cancelled: 0,
  failed: 0,
} satisfies Record<JobPhase, 0>) as [JobPhase, ...JobPhase[]];

/**
 * Whether a job may still change: running, between two runs (continued as new), or paused in Temporal
 * (`PAUSED`, server 1.29: the workflow is not dispatched until it is unpaused, but it has not ended).
 */
export function isOpen(status: JobStatus): boolean {
  return status === 'RUNNING' || status === 'CONTINUED_AS_NEW' || status === 'PAUSED';
}

export interface JobDescription {
  readonly jobId: string;
  readonly status: JobStatus;
  /** What the person who started it called it; null for jobs started without a name. */
  readonly name: string | null;
  readonly fileName: string | undefined;
  /** The column asked for. */
  readonly column: string | undefined;
  /** A dry run against the simulator; null when not known. */
  readonly simulated: boolean | null;
  /** When the job's first run started (a long job continues as new: its later runs start later). */
  readonly createdAt: Date;
  readonly closedAt: Date | null;
  readonly progress: JobProgress | null;
  /** Once the job has completed or been cancelled. */
  readonly stats: JobStats | null;
  /** Agreement with the human-coded column, once the job has completed or been cancelled with one. */
  readonly quality?: QualitySummary;
  /** Why the job failed (FAILED only): the cause a person can act on. */
  readonly error?: string;
  /** What the job was started with, to start it again; absent when its files are no longer stored. */
  readonly startedWith?: JobStart;
}

/** What `spec`'s job was started with, as a client would send it again. */
export function jobStartOf(spec: JobSpec): JobStart {
  const o = spec.options;
  return {
    ...(spec.name ? { name: spec.name } : {}),
    ...(spec.sheet !== undefined ? { sheet: spec.sheet } : {}),
    column: spec.column,
    ...(spec.goldColumn !== undefined ? { goldColumn: spec.goldColumn } : {}),
    ...(spec.by?.length ? { by: spec.by } : {}),
    ...(spec.question !== undefined ? { question: spec.question } : {}),
    ...(spec.categoriesText !== undefined ? { categories: spec.categoriesText } : {}),
    batchSize: o.batchSize,
    concurrency: o.maxWorkers,
    temperature: o.temperature,
    model: o.model,
    parallel: o.parallel,
    ...(o.multi !== undefined ? { multi: o.multi } : {}),
    ...(o.multi && o.maxCodes !== undefined ? { maxCodes: o.maxCodes } : {}),
    ...(o.maxCost !== undefined ? { maxCost: o.maxCost } : {}),
    ...(o.batchApi !== undefined ? { batchApi: o.batchApi } : {}),
    ...(o.reviewModel ? { reviewModel: o.reviewModel } : {}),
    ...(spec.goldColumn !== undefined && o.examplesFromGold !== undefined
      ? { examplesFromGold: o.examplesFromGold }
      : {}),
  };
}

/** A job as the list shows it: from visibility, with the search attributes the workflow keeps up to date. */
export interface JobSummary {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly name: string | null;
  readonly fileName: string | null;
  readonly column: string | null;
  readonly phase: JobPhase | null;
  /** Data rows of the sheet, once prepared. */
  readonly rows: number | null;
  /** Batches that could not be coded after their retries (not rows). */
  readonly fallbacks: number | null;
  readonly createdAt: Date;
  readonly closedAt: Date | null;
  /** `sameJobKey` of a job the API started: an identical start finds it. Not sent to clients. */
  readonly sameKey?: string;
}

/** Where a page of jobs ends: the creation time and id of its last job. */
export interface JobCursor {
  readonly createdAt: Date;
  readonly jobId: string;
}

export interface JobPage {
  readonly jobs: readonly JobSummary[];
  /** The cursor of the next page; undefined on the last one. */
  readonly next: JobCursor | undefined;
}

export type ResultFormat = 'xlsx' | 'csv' | 'sav';

export interface JobResultFile {
  /** The uploaded file's name, for the download's name. */
  readonly fileName: string;
  /** Cancelled or failed: only the rows coded before it stopped. */
  readonly partial: boolean;
  readonly bytes: Uint8Array<ArrayBuffer>;
}

/** A job's stored upload. */
export interface JobInput {
  /** The uploaded file's name (the draft's downloads are named after it). */
  readonly fileName: string;
  /** The stored copy, in the job's folder. */
  readonly path: string;
}

export interface CreatedJob {
  readonly jobId: string;
  /**
   * `started`: a new run; `running`: the same job was already running and is resumed; `completed`: done
   * before; `duplicate`: another job with the same file content, column and settings is running or done
   * (its id is given and nothing starts, unless the request says `force`).
   */
  readonly state: 'started' | 'running' | 'completed' | 'duplicate';
}

/** What was asked cannot be done in the job's present status (resume a running job, delete one): why. */
export class JobStateConflictError extends DomainError {
  constructor(
    readonly jobId: string,
    readonly status: JobStatus,
    reason: string,
  ) {
    super('job_state_conflict', reason, 'id');
  }
}

/** The job refused a change (its update's validator said no): the message says why. */
export class JobChangeRejectedError extends DomainError {
  constructor(
    readonly jobId: string,
    reason: string,
  ) {
    super('update_rejected', reason);
  }
}

/** What the front doors (CLI, API) need to know about the answer column before a job starts. */
export interface InspectedColumn {
  readonly sheet: string;
  readonly header: string;
  readonly column: string;
}

/** Checks file, sheet and column up front (reading only the top of the sheet), throwing domain errors. */
export type InspectColumn = (input: {
  path: string;
  displayName: string;
  format: SheetFormat;
  sheet?: string;
  column: string;
}) => Promise<InspectedColumn>;

export interface JobServiceDeps {
  readonly client: Client;
  readonly store: JobStore;
  readonly taskQueue: string;
  readonly searchAttributes: boolean;
  readonly inspect: InspectColumn;
}

export interface CreateJobRequest {
  readonly fileName: string;
  /** A file on disk (CLI) or uploaded bytes (API). */
  readonly source: FileSource;
  readonly column: string;
  readonly sheet?: string;
  /** A human-coded column to measure the model against (`--gold-column`, API `goldColumn`). */
  readonly goldColumn?: string;
  /** Banner columns for the tables by segment (`--by`, API `by`): `Region`, `NPS=0-6,7-8,9-10`. */
  readonly by?: readonly string[];
  readonly question?: string;
  readonly categories: readonly Category[];
  /** The text `categories` was read from, kept with the job so that it can be started again as it was. */
  readonly categoriesText?: string;
  readonly options: JobOptions;
  /**
   * `content`: the id follows from the file and the settings that shape the labels, so running the same
   * command again resumes the same job (CLI). `random`: a fresh unguessable id (API uploads).
   */
  readonly idFrom: 'content' | 'random';
  /**
   * Who answers (`simulator`, `openai` or a base URL), part of a content id: a dry run and a real run of the
   * same file are different jobs, so a real run never returns a dry run's labels as its own.
   */
  readonly answeredBy?: string;
  readonly batchesPerRun?: number;
  /** Batch API mode, for tests: lines per file, and looks before a run hands over. */
  readonly batchApiLinesPerFile?: number;
  readonly batchApiPollsPerRun?: number;
  /** A name for people (the job card, the list); default none: the file and column say what it is. */
  readonly name?: string;
  /** A `random` id job starts even when an identical job is running or done (see `CreatedJob.state`). */
  readonly force?: boolean;
}

/** A job's workflow, typed: its result, queries and updates are checked against the workflow's own. */
export type JobHandle = WorkflowHandle<typeof classifyJobWorkflow>;

/** The job workflow's type name, for visibility queries (`WorkflowType = '…'`). */
export const JOB_WORKFLOW_TYPE = classifyJobWorkflow.name;

/** A job created through the Temporal service: with its workflow's handle, to wait on or query. */
export interface StartedJob extends CreatedJob {
  readonly handle: JobHandle;
}

/** The Temporal implementation: `create` also hands back the workflow's handle, which the CLI waits on. */
export interface TemporalJobService extends JobService {
  create(request: CreateJobRequest): Promise<StartedJob>;
}

/** What a finished job leaves in its folder besides the output files (written by the workflow's last step). */
interface StoredResult {
  readonly partial: boolean;
  readonly stats: JobStats;
  readonly simulated: boolean;
  readonly quality?: QualitySummary;
}

export function createJobService(deps: JobServiceDeps): TemporalJobService {
  const { client, store } = deps;

  function handle(jobId: string): JobHandle {
    store.dir(jobId); // validates the id: a checked id is safe in a visibility query too
    return client.workflow.getHandle<typeof classifyJobWorkflow>(jobId);
  }

  /** The job's workflow, or JobNotFoundError for an unknown id (or any workflow that is not a job). */
  async function describeWorkflow(jobId: string): Promise<WorkflowExecutionDescription> {
    try {
      const description = await handle(jobId).describe();
      if (description.type !== JOB_WORKFLOW_TYPE || (await store.isDeleted(jobId)))
        throw new JobNotFoundError(jobId);
      return description;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new JobNotFoundError(jobId);
      throw error;
    }
  }

  /** Every execution visibility holds for `query`, decoded by the SDK (status, times, search attributes). */
  async function executionsWhere(query: string): Promise<WorkflowExecutionInfo[]> {
    const executions: WorkflowExecutionInfo[] = [];
    for await (const execution of client.workflow.list({ query, pageSize: 1_000 }))
      executions.push(execution);
    return executions;
  }

  /** When the job's first run started, as the list says; undefined while visibility has not caught up. */
  async function createdAt(jobId: string): Promise<Date | undefined> {
    // Visibility is a nicety here: the run's own start will do when it cannot answer.
    const runs = await executionsWhere(`WorkflowId = '${jobId}'`).catch(() => []);
    return summarizeJobs(runs).find((job) => job.jobId === jobId)?.createdAt;
  }

  async function storedResult(jobId: string): Promise<StoredResult | undefined> {
    return store.readJsonIfExists<StoredResult>(store.file(jobId, 'result.json'));
  }

  /** Runs a workflow update, with the job's own refusal as a JobChangeRejectedError. */
  async function change(jobId: string, update: () => Promise<unknown>): Promise<void> {
    try {
      await update();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new JobNotFoundError(jobId);
      if (error instanceof WorkflowUpdateFailedError) {
        throw new JobChangeRejectedError(
          jobId,
          error.cause instanceof Error ? error.cause.message : error.message,
        );
      }
      throw error;
    }
  }

  /** Starts the job's workflow, or finds it already running or done (a content id seen before). */
  async function startOrResume(
    jobId: string,
    workflowInput: ClassifyJobInput,
    request: Pick<CreateJobRequest, 'fileName' | 'column' | 'sheet' | 'name'> & { sameKey?: string },
  ): Promise<StartedJob> {
    const status = await workflowStatus(client, jobId);
    if (status === 'RUNNING') return { jobId, handle: handle(jobId), state: 'running' };
    if (status === 'COMPLETED') return { jobId, handle: handle(jobId), state: 'completed' };
    try {
      const started = await client.workflow.start(classifyJobWorkflow, {
        workflowId: jobId,
        taskQueue: deps.taskQueue,
        args: [workflowInput],
        memo: {
          fileName: request.fileName,
          column: request.column,
          ...(request.name ? { name: request.name } : {}),
          ...(request.sameKey ? { sameKey: request.sameKey } : {}),
        },
        staticSummary: `Code ${request.fileName} · column ${request.column}${request.sheet ? ` · sheet ${request.sheet}` : ''}`,
        // Failed or cancelled before: a new run picks up the batches already stored.
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      return { jobId, handle: started, state: 'started' };
    } catch (error) {
      // Completed between the look and the start.
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        return { jobId, handle: handle(jobId), state: 'completed' };
      }
      throw error;
    }
  }

  const workflowInputOf = (
    spec: JobSpec,
    tuning: Pick<CreateJobRequest, 'batchesPerRun' | 'batchApiLinesPerFile' | 'batchApiPollsPerRun'> = {},
  ): ClassifyJobInput => ({
    jobId: spec.jobId,
    fileName: spec.fileName,
    column: spec.column,
    ...(spec.sheet !== undefined ? { sheet: spec.sheet } : {}),
    options: spec.options,
    searchAttributes: deps.searchAttributes,
    ...(tuning.batchesPerRun ? { batchesPerRun: tuning.batchesPerRun } : {}),
    ...(tuning.batchApiLinesPerFile ? { batchApiLinesPerFile: tuning.batchApiLinesPerFile } : {}),
    ...(tuning.batchApiPollsPerRun ? { batchApiPollsPerRun: tuning.batchApiPollsPerRun } : {}),
  });

  return {
    async create(request) {
      const key = request.idFrom === 'random' ? await sameJobKey(request) : undefined;
      if (key && !request.force) {
        // Visibility holds every job's memo: the one with this key, if it is running or done.
        const same = summarizeJobs(await executionsWhere(`WorkflowType = '${JOB_WORKFLOW_TYPE}'`)).find(
          (job) => job.sameKey === key && (isOpen(job.status) || job.status === 'COMPLETED'),
        );
        if (same) return { jobId: same.jobId, handle: handle(same.jobId), state: 'duplicate' };
      }
      const { jobId, spec } = await storeJob(deps, request);
      try {
        return await startOrResume(jobId, workflowInputOf(spec, request), {
          ...request,
          ...(key ? { sameKey: key } : {}),
        });
      } catch (error) {
        // Nothing started (Temporal unreachable, say): a new job's upload would be left with no job. Kept if
        // the start went through after all and only its answer was lost.
        const started = await workflowStatus(client, jobId).catch(() => undefined);
        if (request.idFrom === 'random' && !started) await store.remove(jobId).catch(() => undefined);
        throw error;
      }
    },

    async status(jobId) {
      return (await describeWorkflow(jobId)).status.name;
    },

    async describe(jobId) {
      const d = await describeWorkflow(jobId);
      const status = d.status.name;
      const stored = await storedResult(jobId);
      let progress: JobProgress | undefined;
      let stats: JobStats | undefined;
      let error: string | undefined;
      if (status === 'COMPLETED') {
        const result = await handle(jobId).result();
        progress = result.progress;
        stats = result.stats;
      } else {
        progress = await handle(jobId)
          .query(progressQuery)
          .catch(() => undefined);
        if (status === 'FAILED') error = await failureMessage(handle(jobId));
        stats = stored?.stats;
      }
      const memo = (name: string) => (typeof d.memo?.[name] === 'string' ? d.memo[name] : undefined);
      return {
        jobId,
        status,
        name: memo('name') ?? null,
        fileName: memo('fileName') ?? progress?.fileName,
        column: memo('column') ?? progress?.column,
        simulated: progress?.simulated ?? stored?.simulated ?? null,
        createdAt: (await createdAt(jobId)) ?? d.startTime,
        closedAt: d.closeTime ?? null,
        progress: progress ?? null,
        stats: stats ?? null,
        ...(stored?.quality ? { quality: stored.quality } : {}),
        ...(error ? { error } : {}),
        ...(await readJobStart(store, jobId)),
      };
    },

    async list({ limit, after }) {
      // SQL visibility (the dev server's, a PostgreSQL cluster's) cannot ORDER BY: every job is read and
      // sorted here. The SDK's iterator pages through the server's pages and keeps their tokens to itself,
      // so the page a caller sees is cut by a cursor of ours, stable while new jobs arrive.
      const [executions, deleted] = await Promise.all([
        executionsWhere(`WorkflowType = '${JOB_WORKFLOW_TYPE}'`),
        store.deletedJobs(),
      ]);
      const jobs = summarizeJobs(executions).filter((job) => !deleted.has(job.jobId));
      return pageOfJobs(jobs, { limit, after });
    },

    async progress(jobId) {
      try {
        return await handle(jobId).query(progressQuery);
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) throw new JobNotFoundError(jobId);
        throw error;
      }
    },

    async result(jobId, format) {
      const done = await storedResult(jobId);
      if (!done) return undefined;
      const spec = await store.readJsonIfExists<JobSpec>(store.file(jobId, 'job.json'));
      // The .sav is made on the first request (most jobs are never wanted in SPSS), then kept.
      const file =
        format === 'sav' ? (await writeJobSav(store, jobId)).path : store.file(jobId, `output.${format}`);
      const bytes = await fs.readFile(file);
      return { fileName: spec?.fileName ?? jobId, partial: done.partial, bytes: new Uint8Array(bytes) };
    },

    tables: (jobId, by) => jobTables(store, jobId, by),

    async summary(jobId) {
      if (!(await storedResult(jobId))) return undefined;
      return readJobSummary(store, jobId);
    },

    setConcurrency: (jobId, concurrency) =>
      change(jobId, () => handle(jobId).executeUpdate(setConcurrencyUpdate, { args: [concurrency] })),
    pause: (jobId) => change(jobId, () => handle(jobId).executeUpdate(pauseUpdate)),
    resume: (jobId) => change(jobId, () => handle(jobId).executeUpdate(resumeUpdate)),
    setMaxCost: (jobId, maxCost) =>
      change(jobId, () => handle(jobId).executeUpdate(setMaxCostUpdate, { args: [maxCost] })),

    async retry(jobId) {
      const status = await this.status(jobId);
      if (isOpen(status) || status === 'COMPLETED') {
        throw new JobStateConflictError(
          jobId,
          status,
          `The job is ${status.toLowerCase()}: only a failed, cancelled, terminated or timed-out job can be resumed.`,
        );
      }
      const spec = await store.readJsonIfExists<JobSpec>(store.file(jobId, 'job.json'));
      if (!spec)
        throw new JobChangeRejectedError(jobId, 'The job’s files are no longer stored: start it again.');
      // The same id: the new run finds the batches coded before and codes only the rest.
      await startOrResume(jobId, workflowInputOf(spec), spec);
    },

    async remove(jobId) {
      const status = await this.status(jobId);
      if (isOpen(status)) {
        throw new JobStateConflictError(
          jobId,
          status,
          `The job is ${status.toLowerCase()}: cancel it before deleting it.`,
        );
      }
      // Every run of the job: a long job continued as new, and deleting the current run leaves the others.
      const runs = await executionsWhere(`WorkflowId = '${jobId}'`);
      for (const run of runs) {
        await client.workflowService
          .deleteWorkflowExecution({
            namespace: client.options.namespace,
            workflowExecution: { workflowId: jobId, runId: run.runId },
          })
          .catch((error: unknown) => {
            // Deleted already (a run the server removed meanwhile).
            if ((error as { code?: number }).code !== GRPC_NOT_FOUND) throw error;
          });
      }
      // The server deletes in the background, when it gets to it (the dev server may take minutes): the
      // job's files go now, and a mark left in their place hides the job from the list and from GET.
      await store.remove(jobId, { mark: true });
    },

    async cancel(jobId) {
      try {
        await handle(jobId).cancel();
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) throw new JobNotFoundError(jobId);
        throw error;
      }
    },

    async health() {
      await client.workflowService.getSystemInfo({});
    },

    input: (jobId) => readJobInput(store, jobId),

    checkColumns: (input) => columnProblems(deps.inspect, input),
  };
}

/** `startedWith` of a job's description, from the spec in its folder (nothing when that is gone). */
export async function readJobStart(store: JobStore, jobId: string): Promise<{ startedWith?: JobStart }> {
  const spec = await store.readJsonIfExists<JobSpec>(store.file(jobId, 'job.json'));
  return spec ? { startedWith: jobStartOf(spec) } : {};
}

/**
 * The upload a job keeps in its folder, named by its spec. Read from the store alone: the file is there as
 * long as the job's folder, whether or not Temporal still keeps the workflow. Checked to exist, so that a
 * draft is never started on a missing file (which would fail naming the server's path).
 */
export async function readJobInput(store: JobStore, jobId: string): Promise<JobInput> {
  const spec = await store.readJsonIfExists<JobSpec>(store.file(jobId, 'job.json'));
  if (spec) {
    const file = store.file(jobId, spec.input);
    const stored = await fs.stat(file).then(
      (stat) => stat.isFile(),
      () => false,
    );
    if (stored) return { fileName: spec.fileName, path: file };
  }
  throw new JobNotFoundError(jobId);
}

/**
 * Writes the upload and the job's spec to the job's folder, after checking sheet and column (reading only the
 * top of the sheet). The part of creating a job that needs no Temporal: a refused upload leaves nothing.
 */
export async function storeJob(
  deps: Pick<JobServiceDeps, 'store' | 'inspect'>,
  request: CreateJobRequest,
): Promise<{ jobId: string; spec: JobSpec }> {
  const { store } = deps;
  const { model, prices, maxCost, reviewModel } = request.options;
  if (maxCost !== undefined && !priceFor(model, prices)) {
    // A cap needs a price to be checked against: refused before anything is stored.
    throw new InvalidSettingError(
      'maxCost',
      maxCost,
      `the model ${model} has no price in verbatim's table: set OPENAI_PRICE_INPUT and OPENAI_PRICE_OUTPUT (USD per million tokens) to cap its cost`,
    );
  }
  if (maxCost !== undefined && reviewModel && !priceFor(reviewModel)) {
    // The review's requests are held at the cap too: they need their model's price (the table's).
    throw new InvalidSettingError(
      'maxCost',
      maxCost,
      `the review model ${reviewModel} has no price in verbatim's table: its requests cannot be held at a cost cap`,
    );
  }
  const stored = await storeUpload(
    store,
    request,
    { content: (bytes) => contentJobId(bytes, request), random: randomJobId },
    async (upload) => {
      // The column, the human-coded column and the banners, checked together: every mistake in one error.
      throwProblems(await columnProblems(deps.inspect, { ...upload, ...request }));
    },
  );
  const { id: jobId, format, input } = stored;
  const spec: JobSpec = {
    jobId,
    fileName: request.fileName,
    format,
    input,
    column: request.column,
    ...(request.goldColumn !== undefined ? { goldColumn: request.goldColumn } : {}),
    ...(request.by?.length ? { by: request.by } : {}),
    ...(request.sheet !== undefined ? { sheet: request.sheet } : {}),
    ...(request.question !== undefined ? { question: request.question } : {}),
    categories: request.categories,
    ...(request.categoriesText !== undefined ? { categoriesText: request.categoriesText } : {}),
    options: request.options,
    ...(request.name ? { name: request.name } : {}),
    createdAt: new Date().toISOString(),
  };
  const existing = await store.readJsonIfExists<JobSpec>(store.file(jobId, 'job.json'));
  if (!existing) await store.writeJson(store.file(jobId, 'job.json'), spec);
  // The same job started again after it was deleted (a content id) is shown again.
  await store.unmarkDeleted(jobId);
  return { jobId, spec };
}

/** Where a stored upload lies, for `InspectColumn` to check its columns. */
export type StoredSheet = Omit<Parameters<InspectColumn>[0], 'column'>;

/**
 * Writes an upload to its folder as `input.<format>`, under the id it gets (`ids.content` of its bytes, or
 * `ids.random()`), then has `check` look at it: what jobs and codeframe drafts do with a file before they
 * start. A refused upload under a random id leaves nothing.
 */
export async function storeUpload(
  store: JobStore,
  request: {
    readonly fileName: string;
    readonly source: FileSource;
    readonly sheet?: string;
    readonly idFrom: 'content' | 'random';
  },
  ids: { readonly content: (bytes: Uint8Array) => string; readonly random: () => string },
  check: (upload: StoredSheet) => Promise<unknown>,
): Promise<{ id: string; format: SheetFormat; input: string }> {
  const format = sheetFormatOf(request.fileName);
  const bytes = await readSource(request.source);
  const id = request.idFrom === 'content' ? ids.content(bytes) : ids.random();
  const input = `input.${format}`;
  const path = await store.writeBytes(id, input, bytes);
  try {
    await check({
      path,
      displayName: request.fileName,
      format,
      ...(request.sheet !== undefined ? { sheet: request.sheet } : {}),
    });
  } catch (error) {
    if (request.idFrom === 'random') await store.remove(id);
    throw error;
  }
  return { id, format, input };
}

/** What `columnProblems` checks: where the upload lies, and the columns a job names. */
export type ColumnCheck = StoredSheet & {
  readonly column: string;
  readonly goldColumn?: string | undefined;
  readonly by?: readonly string[] | undefined;
};

/**
 * The mistakes in the columns a job names, each its own error so that all are reported at once: the answer
 * column (`ColumnNotFoundError`, `NoAnswersError`), the column coded by hand (`GoldColumnNotFoundError`,
 * field `goldColumn`) and each banner (`BannerNotFoundError`, field `by`). A file or sheet that cannot be
 * read is thrown as it is: no column of it can be checked.
 */
export async function columnProblems(inspect: InspectColumn, input: ColumnCheck): Promise<DomainError[]> {
  const { column, goldColumn, by, ...rest } = input;
  const where: StoredSheet = {
    path: rest.path,
    displayName: rest.displayName,
    format: rest.format,
    ...(rest.sheet !== undefined ? { sheet: rest.sheet } : {}),
  };
  const problems: DomainError[] = [];
  /**
   * Inspects one column from the top of the sheet; one not found, or holding nothing, is a problem: as
   * `named` words it (`available`: the sheet's columns; empty when the column was found), else as it came.
   */
  const check = async (
    name: string,
    named?: (file: string, sheet: string, available: readonly string[], reason?: string) => DomainError,
  ): Promise<void> => {
    try {
      await inspect({ ...where, column: name });
    } catch (error) {
      if (error instanceof ColumnNotFoundError) {
        problems.push(named ? named(error.file, error.sheet, error.available) : error);
      } else if (error instanceof NoAnswersError) {
        problems.push(named ? named(error.file, error.sheet, [], 'holds no value') : error);
      } else throw error;
    }
  };
  await check(column);
  if (goldColumn !== undefined) {
    await check(goldColumn, (f, s, a, r) => new GoldColumnNotFoundError(f, s, goldColumn, a, r));
  }
  for (const banner of (by ?? []).map(parseBanner)) {
    await check(banner.column, (f, s, a, r) => new BannerNotFoundError(f, s, banner.column, a, r));
  }
  return problems;
}

/**
 * What makes two jobs the same for a person: the file's content, column, sheet, question, categories and
 * the settings that shape the labels (a content id is this already). Kept in a random-id job's memo.
 */
export async function sameJobKey(request: CreateJobRequest): Promise<string> {
  return contentJobId(await readSource(request.source), request);
}

/** gRPC's NOT_FOUND status code (the SDK's service errors carry the raw code). */
const GRPC_NOT_FOUND = 5;

/** The job's search attributes, typed: the SDK decodes them by these keys. */
const SEARCH_KEYS = {
  fileName: defineSearchAttributeKey(SEARCH_ATTRIBUTES.fileName.name, 'KEYWORD'),
  column: defineSearchAttributeKey(SEARCH_ATTRIBUTES.column.name, 'KEYWORD'),
  phase: defineSearchAttributeKey(SEARCH_ATTRIBUTES.phase.name, 'KEYWORD'),
  rows: defineSearchAttributeKey(SEARCH_ATTRIBUTES.rows.name, 'INT'),
  fallbacks: defineSearchAttributeKey(SEARCH_ATTRIBUTES.fallbacks.name, 'INT'),
};

const PHASES = new Set<string>(JOB_PHASES);

/**
 * Jobs from their workflow runs, newest first by creation. A long job continues as new (its earlier runs
 * are closed executions of the same id) and a failed one may be started again: each job is listed once,
 * created when its first run started, as its latest run says otherwise.
 */
export function summarizeJobs(executions: readonly WorkflowExecutionInfo[]): JobSummary[] {
  const runs = new Map<string, { latest: WorkflowExecutionInfo; latestAt: number; createdAt: number }>();
  for (const e of executions) {
    const t = e.startTime.getTime();
    const seen = runs.get(e.workflowId);
    if (!seen) runs.set(e.workflowId, { latest: e, latestAt: t, createdAt: t });
    else {
      seen.createdAt = Math.min(seen.createdAt, t);
      if (t > seen.latestAt || (t === seen.latestAt && e.status.name !== 'CONTINUED_AS_NEW')) {
        seen.latest = e;
        seen.latestAt = t;
      }
    }
  }
  return [...runs]
    .map(([jobId, { latest: e, createdAt }]): JobSummary => {
      const attribute = e.typedSearchAttributes;
      const phase = attribute.get(SEARCH_KEYS.phase);
      // The next run of a job that just continued as new may not be visible yet: the job runs on.
      const between = e.status.name === 'CONTINUED_AS_NEW';
      return {
        jobId,
        status: between ? 'RUNNING' : e.status.name,
        name: typeof e.memo?.name === 'string' ? e.memo.name : null,
        ...(typeof e.memo?.sameKey === 'string' ? { sameKey: e.memo.sameKey } : {}),
        fileName: attribute.get(SEARCH_KEYS.fileName) ?? null,
        column: attribute.get(SEARCH_KEYS.column) ?? null,
        phase: phase !== undefined && PHASES.has(phase) ? (phase as JobPhase) : null,
        rows: attribute.get(SEARCH_KEYS.rows) ?? null,
        fallbacks: attribute.get(SEARCH_KEYS.fallbacks) ?? null,
        createdAt: new Date(createdAt),
        closedAt: between ? null : (e.closeTime ?? null),
      };
    })
    .sort(newestFirst);
}

/** Newest first; the id breaks ties, so a cursor names one place in the order. */
export function newestFirst(a: JobCursor, b: JobCursor): number {
  return (
    b.createdAt.getTime() - a.createdAt.getTime() || (b.jobId < a.jobId ? -1 : b.jobId > a.jobId ? 1 : 0)
  );
}

/** The page of `jobs` (newest first) after the cursor's job. */
export function pageOfJobs(
  jobs: readonly JobSummary[],
  options: { readonly limit: number; readonly after?: JobCursor | undefined },
): JobPage {
  const { after } = options;
  const rest = after ? jobs.filter((job) => newestFirst(job, after) > 0) : jobs;
  const page = rest.slice(0, options.limit);
  const last = page.at(-1);
  return {
    jobs: page,
    next: rest.length > page.length && last ? { createdAt: last.createdAt, jobId: last.jobId } : undefined,
  };
}

/** The cause a person can act on, from a failed job's (or draft's) workflow failure. */
export async function failureMessage(job: Pick<WorkflowHandle, 'result'>): Promise<string> {
  try {
    await job.result();
    return 'failed';
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) return String(error);
    let cause: unknown = error.cause;
    while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
    return cause instanceof Error ? cause.message : error.message;
  }
}

/** The latest run's status, or undefined when there is no such workflow. */
/**
 * The same file with the same settings that shape the labels gives the same id; concurrency and retry
 * settings are left out, so the same job can be resumed with more workers. Settings added later enter
 * only when they differ from what jobs before them did (categories carry codes and nets only when given;
 * multi-code only when on), so an old job's command still finds its job.
 */
export function contentJobId(
  bytes: Uint8Array,
  r: Omit<CreateJobRequest, 'source' | 'idFrom' | 'fileName'>,
): string {
  const mode = codingMode(r.options);
  return contentId('job-', bytes, {
    column: r.column,
    sheet: r.sheet ?? null,
    question: r.question ?? null,
    categories: r.categories,
    model: r.options.model,
    temperature: r.options.temperature,
    batchSize: r.options.batchSize,
    batchTokenTarget: r.options.batchSize === 'auto' ? r.options.batchTokenTarget : null,
    ...(mode.multi ? { multi: true, maxCodes: mode.maxCodes } : {}),
    // Absent without one, so jobs from before the gold column keep their ids.
    ...(r.goldColumn !== undefined ? { goldColumn: r.goldColumn } : {}),
    // Likewise the banners: another table is another job's output.
    ...(r.by?.length ? { by: r.by } : {}),
    ...(r.options.reviewModel ? { reviewModel: r.options.reviewModel } : {}),
    ...(r.options.examplesFromGold ? { examplesFromGold: r.options.examplesFromGold } : {}),
    // OpenAI itself, the usual case, leaves the id as it was before dry runs were told apart.
    ...(r.answeredBy && r.answeredBy !== 'openai' ? { answeredBy: r.answeredBy } : {}),
  });
}

export function randomJobId(): string {
  return randomId('job-');
}
