import { jobTables } from '../../activities/tables.js';
import { JobNotFoundError } from '../../domain/errors.js';
import type { JobProgress } from '../../domain/job.js';
import type {
  CreateJobRequest,
  JobDescription,
  JobResultFile,
  JobService,
  JobServiceDeps,
  JobSummary,
  ResultFormat,
} from '../../jobs/service.js';
import {
  JobStateConflictError,
  sameJobKey,
  isOpen,
  newestFirst,
  pageOfJobs,
  readJobInput,
  readJobStart,
  storeJob,
  columnProblems,
} from '../../jobs/service.js';

/**
 * The job service in memory, for API tests that need no workflow (auth, validation, errors, routes): no
 * Temporal server, no worker. `create` stores and checks the upload as the real service does (`storeJob`:
 * the same refusals, nothing kept after one), then records a running job; everything else reads and
 * changes records the test sets with `put`.
 */
export interface FakeJobService extends JobService {
  /** The ids of the jobs `create` started, in order. */
  readonly created: readonly string[];
  /** What each job was asked to do, in order: `pause`, `resume`, `concurrency 4`, `cancel`. */
  readonly changes: ReadonlyMap<string, readonly string[]>;
  /** Adds or replaces a job (a running one with no progress yet, unless said otherwise). */
  put(job: Partial<JobDescription> & Pick<JobDescription, 'jobId'>): JobDescription;
  /** The coded file a finished job answers with. */
  putResult(jobId: string, format: ResultFormat, file: JobResultFile): void;
  /** False: `health` fails, as when Temporal is unreachable. */
  healthy: boolean;
}

export function createFakeJobService(deps: Pick<JobServiceDeps, 'store' | 'inspect'>): FakeJobService {
  const jobs = new Map<string, JobDescription>();
  const results = new Map<string, Partial<Record<ResultFormat, JobResultFile>>>();
  const created: string[] = [];
  /** Each started job's `sameJobKey`, as the real service keeps it in the workflow's memo. */
  const sameKeys = new Map<string, string>();
  const changes = new Map<string, string[]>();

  function find(jobId: string): JobDescription {
    const job = jobs.get(jobId);
    if (!job) throw new JobNotFoundError(jobId);
    return job;
  }

  function put(job: Partial<JobDescription> & Pick<JobDescription, 'jobId'>): JobDescription {
    const stored: JobDescription = {
      status: 'RUNNING',
      name: null,
      fileName: undefined,
      column: undefined,
      simulated: null,
      createdAt: new Date(),
      closedAt: null,
      progress: null,
      stats: null,
      ...jobs.get(job.jobId),
      ...job,
    };
    jobs.set(job.jobId, stored);
    return stored;
  }

  /** Records a change of a job, applying it to the job's progress when it has one. */
  function change(jobId: string, what: string, progress?: (p: JobProgress) => JobProgress): void {
    const job = find(jobId);
    changes.set(jobId, [...(changes.get(jobId) ?? []), what]);
    if (job.progress && progress) put({ jobId, progress: progress(job.progress) });
  }

  const summary = (job: JobDescription): JobSummary => ({
    jobId: job.jobId,
    status: job.status,
    name: job.name,
    fileName: job.fileName ?? null,
    column: job.column ?? null,
    phase: job.progress?.phase ?? null,
    rows: job.progress?.rows.total ?? null,
    fallbacks: job.progress?.batches.fallback ?? null,
    createdAt: job.createdAt,
    closedAt: job.closedAt,
  });

  return {
    created,
    changes,
    put,
    putResult(jobId, format, file) {
      results.set(jobId, { ...results.get(jobId), [format]: file });
    },
    healthy: true,

    checkColumns: (input) => columnProblems(deps.inspect, input),

    async create(request: CreateJobRequest) {
      const key = await sameJobKey(request);
      const same = [...sameKeys].find(
        ([id, k]) =>
          k === key && jobs.has(id) && (isOpen(find(id).status) || find(id).status === 'COMPLETED'),
      );
      if (same && !request.force) return { jobId: same[0], state: 'duplicate' };
      const { jobId, spec } = await storeJob(deps, request);
      sameKeys.set(jobId, key);
      put({ jobId, name: spec.name ?? null, fileName: spec.fileName, column: spec.column });
      created.push(jobId);
      return { jobId, state: 'started' };
    },
    retry: (jobId) =>
      settle(() => {
        const { status } = find(jobId);
        if (isOpen(status) || status === 'COMPLETED') {
          throw new JobStateConflictError(
            jobId,
            status,
            `The job is ${status.toLowerCase()}: it cannot be resumed.`,
          );
        }
        change(jobId, 'retry');
        put({ jobId, status: 'RUNNING', closedAt: null });
      }),
    remove: (jobId) =>
      settle(() => {
        const { status } = find(jobId);
        if (isOpen(status))
          throw new JobStateConflictError(jobId, status, `The job is ${status.toLowerCase()}.`);
        jobs.delete(jobId);
      }),
    status: (jobId) => settle(() => find(jobId).status),
    // What it was started with, from the store as the real service reads it (`create` stored it there).
    describe: async (jobId) => ({ ...find(jobId), ...(await readJobStart(deps.store, jobId)) }),
    list: (options) => settle(() => pageOfJobs([...jobs.values()].map(summary).sort(newestFirst), options)),
    progress: (jobId) =>
      settle(() => {
        const { progress } = find(jobId);
        if (!progress) throw new Error(`no worker has answered for ${jobId} yet`);
        return progress;
      }),
    result: (jobId, format) => settle(() => (find(jobId), results.get(jobId)?.[format])),
    // From the store, as the real service: a test writes a job's files there to have tables.
    tables: async (jobId, by) => (find(jobId), jobTables(deps.store, jobId, by)),
    summary: (jobId) => settle(() => (find(jobId), undefined)),
    setConcurrency: (jobId, concurrency) =>
      settle(() =>
        change(jobId, `concurrency ${concurrency}`, (p) => ({
          ...p,
          window: { size: concurrency, max: concurrency },
        })),
      ),
    pause: (jobId) => settle(() => change(jobId, 'pause', (p) => ({ ...p, paused: true }))),
    resume: (jobId) => settle(() => change(jobId, 'resume', (p) => ({ ...p, paused: false }))),
    setMaxCost: (jobId, maxCost) => settle(() => change(jobId, `maxCost ${maxCost}`, (p) => p)),
    cancel: (jobId) =>
      settle(() => {
        change(jobId, 'cancel');
        put({ jobId, status: 'CANCELLED', closedAt: new Date() });
      }),
    health() {
      return settle(() => {
        if (!this.healthy) throw new Error('Temporal is unreachable (fake)');
      });
    },
    // The stored upload, read as the real service reads it: `create` stored it with `storeJob`.
    input: (jobId) => readJobInput(deps.store, jobId),
  };
}

/** `fn`'s value or error as a promise, as the real service's calls answer. */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** A job's progress as a worker would answer it: nothing done yet, unless said otherwise. */
export function progressOf(jobId: string, overrides: Partial<JobProgress> = {}): JobProgress {
  const now = new Date().toISOString();
  return {
    jobId,
    phase: 'classifying',
    paused: false,
    simulated: true,
    fileName: 'survey.xlsx',
    column: 'E2',
    rows: {
      total: 0,
      done: 0,
      empty: 0,
      invalid: 0,
      alreadyCoded: 0,
      toClassify: 0,
      classified: 0,
      fallback: 0,
    },
    uniqueAnswers: 0,
    batches: { total: 0, done: 0, inFlight: 0, fallback: 0 },
    window: { size: 5, max: 5 },
    ratePerMinute: 0,
    etaSeconds: null,
    elapsedSeconds: 0,
    tokens: { prompt: 0, completion: 0, cached: 0, total: 0 },
    apiCalls: 0,
    rateLimited: 0,
    fallbackReasons: {},
    startedAt: now,
    updatedAt: now,
    ...overrides,
  };
}
