import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Category } from '../domain/categories.js';
import { InputFileNotFoundError, JobNotFoundError } from '../domain/errors.js';
import type { JobOptions, JobProgress, JobSpec } from '../domain/job.js';
import { codingMode } from '../domain/prompt.js';
import { sheetFormatOf } from '../domain/sheet-format.js';
import type { SheetFormat } from '../domain/sheet-format.js';
import type { JobStore } from '../lib/store.js';
import type { ClassifyJobInput, ClassifyJobResult } from '../workflows/definitions.js';
import { classifyJobWorkflow } from '../workflows/classify-job.js';
import { progressQuery } from '../workflows/definitions.js';

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
  readonly source: { readonly path: string } | { readonly bytes: Uint8Array };
  readonly column: string;
  readonly sheet?: string;
  readonly question?: string;
  readonly categories: readonly Category[];
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
}

/** A job's workflow, typed: its result, queries and updates are checked against the workflow's own. */
export type JobHandle = WorkflowHandle<typeof classifyJobWorkflow>;

/** The job workflow's type name, for visibility queries (`WorkflowType = '…'`). */
export const JOB_WORKFLOW_TYPE = classifyJobWorkflow.name;

export interface StartedJob {
  readonly jobId: string;
  readonly handle: JobHandle;
  /** `started`: a new run; `running`: the same job was already running and is resumed; `completed`: done before. */
  readonly state: 'started' | 'running' | 'completed';
}

export function createJobService(deps: JobServiceDeps) {
  const { client, store } = deps;

  async function readSource(request: CreateJobRequest): Promise<Uint8Array> {
    if ('bytes' in request.source) return request.source.bytes;
    try {
      return await fs.readFile(request.source.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        throw new InputFileNotFoundError(request.source.path);
      throw error;
    }
  }

  /** Starts the job's workflow, or finds it already running or done (a content id seen before). */
  async function startOrResume(
    jobId: string,
    workflowInput: ClassifyJobInput,
    request: CreateJobRequest,
  ): Promise<StartedJob> {
    const status = await statusOf(client, jobId);
    if (status === 'RUNNING')
      return {
        jobId,
        handle: client.workflow.getHandle<typeof classifyJobWorkflow>(jobId),
        state: 'running',
      };
    if (status === 'COMPLETED')
      return {
        jobId,
        handle: client.workflow.getHandle<typeof classifyJobWorkflow>(jobId),
        state: 'completed',
      };
    try {
      const handle = await client.workflow.start(classifyJobWorkflow, {
        workflowId: jobId,
        taskQueue: deps.taskQueue,
        args: [workflowInput],
        memo: { fileName: request.fileName, column: request.column },
        staticSummary: `Code ${request.fileName} · column ${request.column}${request.sheet ? ` · sheet ${request.sheet}` : ''}`,
        // Failed or cancelled before: a new run picks up the batches already stored.
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      return { jobId, handle, state: 'started' };
    } catch (error) {
      // Completed between the look and the start.
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        return {
          jobId,
          handle: client.workflow.getHandle<typeof classifyJobWorkflow>(jobId),
          state: 'completed',
        };
      }
      throw error;
    }
  }

  return {
    /** Stores the file and the job, checks sheet and column, and starts (or resumes) the workflow. */
    async create(request: CreateJobRequest): Promise<StartedJob> {
      const format = sheetFormatOf(request.fileName);
      const bytes = await readSource(request);
      const jobId = request.idFrom === 'content' ? contentJobId(bytes, request) : randomJobId();
      const input = `input.${format}`;
      const inputPath = await store.writeBytes(jobId, input, bytes);
      try {
        await deps.inspect({
          path: inputPath,
          displayName: request.fileName,
          format,
          column: request.column,
          ...(request.sheet !== undefined ? { sheet: request.sheet } : {}),
        });
      } catch (error) {
        if (request.idFrom === 'random') await store.remove(jobId);
        throw error;
      }
      const spec: JobSpec = {
        jobId,
        fileName: request.fileName,
        format,
        input,
        column: request.column,
        ...(request.sheet !== undefined ? { sheet: request.sheet } : {}),
        ...(request.question !== undefined ? { question: request.question } : {}),
        categories: request.categories,
        options: request.options,
        createdAt: new Date().toISOString(),
      };
      const existing = await store.readJsonIfExists<JobSpec>(store.file(jobId, 'job.json'));
      if (!existing) await store.writeJson(store.file(jobId, 'job.json'), spec);
      const workflowInput: ClassifyJobInput = {
        jobId,
        fileName: request.fileName,
        column: request.column,
        ...(request.sheet !== undefined ? { sheet: request.sheet } : {}),
        options: request.options,
        searchAttributes: deps.searchAttributes,
        ...(request.batchesPerRun ? { batchesPerRun: request.batchesPerRun } : {}),
      };
      try {
        return await startOrResume(jobId, workflowInput, request);
      } catch (error) {
        // Nothing started (Temporal unreachable, say): a new job's upload would be left with no job. Kept if
        // the start went through after all and only its answer was lost.
        const started = await statusOf(client, jobId).catch(() => undefined);
        if (request.idFrom === 'random' && !started) await store.remove(jobId).catch(() => undefined);
        throw error;
      }
    },

    handle(jobId: string): JobHandle {
      store.dir(jobId); // validates the id
      return client.workflow.getHandle<typeof classifyJobWorkflow>(jobId);
    },

    async progress(jobId: string): Promise<JobProgress> {
      try {
        return await this.handle(jobId).query(progressQuery);
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) throw new JobNotFoundError(jobId);
        throw error;
      }
    },

    async result(jobId: string): Promise<ClassifyJobResult> {
      return await this.handle(jobId).result();
    },
  };
}

export type JobService = ReturnType<typeof createJobService>;

/** The latest run's status, or undefined when there is no such workflow. */
async function statusOf(client: Client, jobId: string): Promise<string | undefined> {
  try {
    return (await client.workflow.getHandle<typeof classifyJobWorkflow>(jobId).describe()).status.name;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

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
  const hash = createHash('sha256');
  hash.update(bytes);
  hash.update(
    JSON.stringify({
      column: r.column,
      sheet: r.sheet ?? null,
      question: r.question ?? null,
      categories: r.categories,
      model: r.options.model,
      temperature: r.options.temperature,
      batchSize: r.options.batchSize,
      batchTokenTarget: r.options.batchSize === 'auto' ? r.options.batchTokenTarget : null,
      ...(mode.multi ? { multi: true, maxCodes: mode.maxCodes } : {}),
      // OpenAI itself, the usual case, leaves the id as it was before dry runs were told apart.
      ...(r.answeredBy && r.answeredBy !== 'openai' ? { answeredBy: r.answeredBy } : {}),
    }),
  );
  return `job-${hash.digest('hex').slice(0, 20)}`;
}

export function randomJobId(): string {
  return `job-${randomBytes(12)
    .toString('base64url')
    .replace(/[^A-Za-z0-9]/g, 'x')}`;
}
