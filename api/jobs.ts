import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import type { Client, WorkflowExecutionDescription, WorkflowExecutionInfo } from '@temporalio/client';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { defineSearchAttributeKey } from '@temporalio/common';
import { JobNotFoundError } from '../domain/errors.js';
import type { JobProgress, JobStats } from '../domain/job.js';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes.js';
import { pauseUpdate, progressQuery, resumeUpdate, setConcurrencyUpdate } from '../workflows/definitions.js';
import type { AppDeps } from './deps.js';
import { fileField, parseJobForm, parsePatch, readForm, text } from './form.js';
import { sheetFormatOf } from '../domain/sheet-format.js';
import { JOB_WORKFLOW_TYPE } from '../jobs/service.js';
import { ProblemError, badRequest } from './problem.js';

type Status = WorkflowExecutionDescription['status']['name'];

interface StoredResult {
  readonly partial: boolean;
  readonly stats: JobStats;
  readonly simulated: boolean;
}

/** `/jobs`: start, list, watch, change, cancel and download classification jobs. */
export function jobsApp(deps: AppDeps) {
  const app = new Hono();
  const { jobs, client, store } = deps;
  const upload = bodyLimit({
    maxSize: deps.maxUploadBytes,
    onError: () => {
      throw new ProblemError(
        413,
        'file_too_large',
        `The upload is larger than ${Math.round(deps.maxUploadBytes / 1024 / 1024)} MiB (MAX_UPLOAD_MB).`,
        'file',
      );
    },
  });

  const links = (jobId: string) => ({
    self: `/jobs/${jobId}`,
    events: `/jobs/${jobId}/events`,
    result: `/jobs/${jobId}/result`,
    cancel: `/jobs/${jobId}/cancel`,
    ...(deps.temporalUiUrl
      ? {
          temporal: `${deps.temporalUiUrl}/namespaces/${encodeURIComponent(deps.namespace)}/workflows/${jobId}`,
        }
      : {}),
  });

  /** The job's workflow, or a 404 for an unknown id (or any workflow that is not a job). */
  async function describe(jobId: string): Promise<WorkflowExecutionDescription> {
    try {
      const description = await jobs.handle(jobId).describe();
      if (description.type !== JOB_WORKFLOW_TYPE) throw new JobNotFoundError(jobId);
      return description;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new JobNotFoundError(jobId);
      throw error;
    }
  }

  async function storedResult(jobId: string): Promise<StoredResult | undefined> {
    return store.readJsonIfExists<StoredResult>(store.file(jobId, 'result.json'));
  }

  /** When the job's first run started (as the list says): a long job's later runs start as it continues. */
  async function createdAt(jobId: string): Promise<string | undefined> {
    // A checked id (letters, digits, dashes) in the query. Visibility is a nicety here: the run's own
    // start will do when it cannot answer.
    const runs = await executionsWhere(`WorkflowId = '${jobId}'`).catch(() => []);
    const created = runsByJob(runs).get(jobId)?.createdAt;
    return created ? new Date(created).toISOString() : undefined;
  }

  /**
   * Every execution visibility holds for `query`, decoded by the SDK (status, times, search attributes). Its
   * iterator pages through the server's pages itself and keeps their tokens to itself: the list route pages
   * with a cursor of its own (below), so nothing here needs them.
   */
  async function executionsWhere(query: string): Promise<WorkflowExecutionInfo[]> {
    const executions: WorkflowExecutionInfo[] = [];
    for await (const execution of client.workflow.list({ query, pageSize: 1_000 }))
      executions.push(execution);
    return executions;
  }

  async function view(jobId: string) {
    const d = await describe(jobId);
    const status: Status = d.status.name;
    let progress: JobProgress | undefined;
    let stats: JobStats | undefined;
    let error: string | undefined;
    if (status === 'COMPLETED') {
      const result = await jobs.handle(jobId).result();
      progress = result.progress;
      stats = result.stats;
    } else {
      progress = await jobs
        .handle(jobId)
        .query(progressQuery)
        .catch(() => undefined);
      if (status === 'FAILED') error = await failureMessage(client, jobId);
      stats = (await storedResult(jobId))?.stats;
    }
    return {
      jobId,
      status,
      fileName: d.memo?.fileName ?? progress?.fileName,
      column: d.memo?.column ?? progress?.column,
      simulated: progress?.simulated ?? (await storedResult(jobId))?.simulated ?? null,
      createdAt: (await createdAt(jobId)) ?? d.startTime.toISOString(),
      closedAt: d.closeTime?.toISOString() ?? null,
      progress: progress ?? null,
      stats: stats ?? null,
      ...(error ? { error } : {}),
      links: links(jobId),
    };
  }

  app.post('/', upload, async (c) => {
    const form = await readForm(c.req);
    const job = parseJobForm(form, deps.defaults);
    const started = await jobs.create({
      fileName: safeFileName(job.file.name),
      source: { bytes: new Uint8Array(await job.file.arrayBuffer()) },
      column: job.column,
      ...(job.sheet ? { sheet: job.sheet } : {}),
      ...(job.question ? { question: job.question } : {}),
      categories: job.categories,
      options: job.options,
      idFrom: 'random',
    });
    return c.json({ jobId: started.jobId, status: 'RUNNING', links: links(started.jobId) }, 202, {
      location: `/jobs/${started.jobId}`,
    });
  });

  app.post('/preview', upload, async (c) => {
    const form = await readForm(c.req);
    const file = fileField(form);
    const fileName = safeFileName(file.name);
    const format = sheetFormatOf(fileName);
    const sheet = text(form, 'sheet', 200);
    // Uploads land under DATA_DIR only, under a random name, and are removed after the preview.
    const dir = path.join(deps.dataDir, 'uploads');
    await fs.mkdir(dir, { recursive: true });
    const tmp = path.join(dir, `${randomBytes(12).toString('hex')}.${format}`);
    await fs.writeFile(tmp, new Uint8Array(await file.arrayBuffer()));
    try {
      const preview = await deps.preview({
        path: tmp,
        displayName: fileName,
        format,
        ...(sheet ? { sheet } : {}),
        rows: 5,
      });
      return c.json({ fileName, format, ...preview });
    } finally {
      await fs.rm(tmp, { force: true });
    }
  });

  app.get('/', async (c) => {
    const pageSize = Number(c.req.query('pageSize') ?? 20);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) {
      throw badRequest('pageSize', 'pageSize must be a whole number from 1 to 100');
    }
    const cursor = decodeCursor(c.req.query('pageToken'));
    // SQL visibility (the dev server's, a PostgreSQL cluster's) cannot ORDER BY: the jobs are read from
    // visibility and sorted here, newest first. The cursor (creation time and id of the last job shown)
    // keeps paging stable while new jobs arrive.
    const executions = await executionsWhere(`WorkflowType = '${JOB_WORKFLOW_TYPE}'`);
    const jobsNewestFirst = [...runsByJob(executions)]
      .map(([jobId, runs]) => ({ jobId, e: runs.latest, t: runs.createdAt }))
      .filter((x) => !cursor || x.t < cursor.t || (x.t === cursor.t && x.jobId < cursor.id))
      .sort((x, y) => y.t - x.t || (y.jobId < x.jobId ? -1 : y.jobId > x.jobId ? 1 : 0));
    const page = jobsNewestFirst.slice(0, pageSize);
    const list = page.map(({ e, jobId, t }) => ({
      jobId,
      ...listedStatus(e),
      fileName: e.typedSearchAttributes.get(SEARCH_KEYS.fileName) ?? null,
      column: e.typedSearchAttributes.get(SEARCH_KEYS.column) ?? null,
      phase: e.typedSearchAttributes.get(SEARCH_KEYS.phase) ?? null,
      rows: e.typedSearchAttributes.get(SEARCH_KEYS.rows) ?? null,
      fallbacks: e.typedSearchAttributes.get(SEARCH_KEYS.fallbacks) ?? null,
      createdAt: new Date(t).toISOString(),
      links: links(jobId),
    }));
    const last = page.at(-1);
    const more = jobsNewestFirst.length > pageSize && last;
    return c.json({ jobs: list, nextPageToken: more ? encodeCursor({ t: last.t, id: last.jobId }) : null });
  });

  app.get('/:id', async (c) => c.json(await view(c.req.param('id'))));

  app.get('/:id/events', async (c) => {
    const jobId = c.req.param('id');
    await describe(jobId);
    const interval = deps.progressIntervalMs ?? 1_000;
    return streamSSE(c, async (stream) => {
      deps.sse.open += 1;
      // Shutdown wakes the loop instead of aborting the stream: an aborted stream drops whatever is written
      // after, and the browser must still get the `shutdown` event that tells it to reconnect.
      let wake = () => {};
      const draining = () => deps.shutdown?.aborted === true;
      const stop = () => wake();
      deps.shutdown?.addEventListener('abort', stop);
      stream.onAbort(stop);
      try {
        let id = 0;
        while (!stream.aborted && !draining()) {
          const progress = await jobs
            .handle(jobId)
            .query(progressQuery)
            .catch(() => undefined);
          if (progress)
            await stream.writeSSE({
              event: 'progress',
              data: JSON.stringify(progress),
              id: String((id += 1)),
            });
          const d = await describe(jobId);
          if (d.status.name !== 'RUNNING' && d.status.name !== 'CONTINUED_AS_NEW') {
            await stream.writeSSE({
              event: 'done',
              data: JSON.stringify(await view(jobId)),
              id: String((id += 1)),
            });
            return;
          }
          if (stream.aborted || draining()) break;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, interval);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
        if (draining() && !stream.aborted) {
          // Draining: tell the browser to come back (EventSource reconnects after `retry` ms).
          await stream.writeSSE({ event: 'shutdown', data: '{}', retry: 2_000 });
        }
      } finally {
        deps.shutdown?.removeEventListener('abort', stop);
        deps.sse.open -= 1;
      }
    });
  });

  app.get('/:id/result', async (c) => {
    const jobId = c.req.param('id');
    const d = await describe(jobId);
    const format = c.req.query('format') ?? 'xlsx';
    if (format !== 'xlsx' && format !== 'csv') throw badRequest('format', 'format must be xlsx or csv');
    const done = await storedResult(jobId);
    const status = d.status.name;
    if (!done || (status !== 'COMPLETED' && status !== 'CANCELLED')) {
      throw new ProblemError(
        409,
        'job_not_finished',
        NO_RESULT[status] ?? `The job is ${status.toLowerCase()}: it has no result.`,
        'id',
        { jobStatus: status },
      );
    }
    const memoName = d.memo?.fileName;
    const fileName = typeof memoName === 'string' ? memoName : jobId;
    const base = path.basename(fileName, path.extname(fileName));
    const file = store.file(jobId, `output.${format}`);
    const bytes = await fs.readFile(file);
    const suffix = done.partial ? 'partial' : 'coded';
    return c.body(new Uint8Array(bytes), 200, {
      'content-type':
        format === 'csv'
          ? 'text/csv; charset=utf-8'
          : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'content-disposition': contentDisposition(`${base}.${suffix}.${format}`),
    });
  });

  app.patch('/:id', async (c) => {
    const jobId = c.req.param('id');
    const change = parsePatch(await c.req.json<unknown>().catch(() => undefined));
    const d = await describe(jobId);
    if (d.status.name !== 'RUNNING') {
      throw new ProblemError(
        409,
        'job_not_running',
        `The job is ${d.status.name.toLowerCase()}: only a running job can be changed.`,
        'id',
      );
    }
    const handle = jobs.handle(jobId);
    if (change.concurrency !== undefined)
      await handle.executeUpdate(setConcurrencyUpdate, { args: [change.concurrency] });
    if (change.paused !== undefined) await handle.executeUpdate(change.paused ? pauseUpdate : resumeUpdate);
    return c.json(await view(jobId));
  });

  app.post('/:id/cancel', async (c) => {
    const jobId = c.req.param('id');
    const d = await describe(jobId);
    if (d.status.name !== 'RUNNING') {
      throw new ProblemError(
        409,
        'job_not_running',
        `The job is ${d.status.name.toLowerCase()}: there is nothing to cancel.`,
        'id',
      );
    }
    await jobs.handle(jobId).cancel();
    return c.json({ jobId, status: 'CANCELLING', links: links(jobId) }, 202);
  });

  return app;
}

/** Why `GET /jobs/:id/result` has nothing to send, by the job's status. */
const NO_RESULT: Partial<Record<Status, string>> = {
  RUNNING: 'The job is still running: the result is ready when it has completed.',
  CONTINUED_AS_NEW: 'The job is still running: the result is ready when it has completed.',
  COMPLETED: 'The job has completed but its result is no longer stored.',
  CANCELLED: 'The job was cancelled before any row was coded: there is no result.',
  FAILED: 'The job failed: there is no result (GET /jobs/{id} says why).',
  TERMINATED: 'The job was terminated: there is no result.',
  TIMED_OUT: 'The job timed out: there is no result.',
};

/** The cause a person can act on, from a failed job's workflow failure. */
async function failureMessage(client: Client, jobId: string): Promise<string> {
  try {
    await client.workflow.getHandle(jobId).result();
    return 'failed';
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) return String(error);
    let cause: unknown = error.cause;
    while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
    return cause instanceof Error ? cause.message : error.message;
  }
}

interface Cursor {
  readonly t: number;
  readonly id: string;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(token: string | undefined): Cursor | undefined {
  if (!token) return undefined;
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (typeof value.t === 'number' && Number.isFinite(value.t) && typeof value.id === 'string') {
      return { t: value.t, id: value.id };
    }
  } catch {
    // fall through
  }
  throw badRequest('pageToken', 'pageToken is not one this API gave out: start again without it');
}

/** The job's search attributes, typed: the SDK decodes them by these keys. */
const SEARCH_KEYS = {
  fileName: defineSearchAttributeKey(SEARCH_ATTRIBUTES.fileName.name, 'KEYWORD'),
  column: defineSearchAttributeKey(SEARCH_ATTRIBUTES.column.name, 'KEYWORD'),
  phase: defineSearchAttributeKey(SEARCH_ATTRIBUTES.phase.name, 'KEYWORD'),
  rows: defineSearchAttributeKey(SEARCH_ATTRIBUTES.rows.name, 'INT'),
  fallbacks: defineSearchAttributeKey(SEARCH_ATTRIBUTES.fallbacks.name, 'INT'),
};

/**
 * A listed run's status and close time. The next run of a job that just continued as new may not be
 * visible yet: the job runs on. A workflow paused in Temporal (`PAUSED`, server 1.29) has not ended either.
 */
export function listedStatus(e: Pick<WorkflowExecutionInfo, 'status' | 'closeTime'>): {
  status: Status;
  closedAt: string | null;
} {
  if (e.status.name === 'CONTINUED_AS_NEW') return { status: 'RUNNING', closedAt: null };
  return { status: e.status.name, closedAt: e.closeTime?.toISOString() ?? null };
}

/**
 * A job's runs: a long job continues as new (its earlier runs are closed executions of the same id), a
 * failed one may be started again. It was created when its first run started; its latest run says the rest.
 */
function runsByJob(
  executions: readonly WorkflowExecutionInfo[],
): Map<string, { latest: WorkflowExecutionInfo; createdAt: number }> {
  const jobs = new Map<string, { latest: WorkflowExecutionInfo; latestAt: number; createdAt: number }>();
  for (const e of executions) {
    const jobId = e.workflowId;
    const t = e.startTime.getTime();
    const seen = jobs.get(jobId);
    if (!seen) jobs.set(jobId, { latest: e, latestAt: t, createdAt: t });
    else {
      seen.createdAt = Math.min(seen.createdAt, t);
      if (t > seen.latestAt || (t === seen.latestAt && e.status.name !== 'CONTINUED_AS_NEW')) {
        seen.latest = e;
        seen.latestAt = t;
      }
    }
  }
  return jobs;
}

/** A display name only: never used as a path. */
function safeFileName(name: string): string {
  const base = name.replace(/\\/g, '/').split('/').pop() ?? 'upload';
  // eslint-disable-next-line no-control-regex
  return base.replace(/[\u0000-\u001f"]/g, '').slice(0, 200) || 'upload';
}

function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}
