import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import type { JobCursor, JobDescription, JobStatus, JobSummary } from '../jobs/service.js';
import { isOpen } from '../jobs/service.js';
import { sheetFormatOf } from '../domain/sheet-format.js';
import type { AppDeps } from './deps.js';
import { fileField, parseJobForm, parsePatch, readForm, text } from './form.js';
import { ProblemError, badRequest } from './problem.js';

/** `/jobs`: start, list, watch, change, cancel and download classification jobs. */
export function jobsApp(deps: AppDeps) {
  const app = new Hono();
  const { jobs } = deps;
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

  /** `GET /jobs/:id`, the `done` event and PATCH's answer. */
  const view = (d: JobDescription) => ({
    jobId: d.jobId,
    status: d.status,
    fileName: d.fileName,
    column: d.column,
    simulated: d.simulated,
    createdAt: d.createdAt.toISOString(),
    closedAt: d.closedAt?.toISOString() ?? null,
    progress: d.progress,
    stats: d.stats,
    ...(d.error ? { error: d.error } : {}),
    links: links(d.jobId),
  });

  const listed = (job: JobSummary) => ({
    ...job,
    createdAt: job.createdAt.toISOString(),
    closedAt: job.closedAt?.toISOString() ?? null,
    links: links(job.jobId),
  });

  /** Only a running job can be changed or cancelled: a 409 naming its status otherwise. */
  async function requireRunning(jobId: string, refusal: string): Promise<void> {
    const status = await jobs.status(jobId);
    if (status !== 'RUNNING') {
      throw new ProblemError(409, 'job_not_running', `The job is ${status.toLowerCase()}: ${refusal}`, 'id');
    }
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
    const after = decodeCursor(c.req.query('pageToken'));
    const page = await jobs.list({ limit: pageSize, after });
    return c.json({
      jobs: page.jobs.map(listed),
      nextPageToken: page.next ? encodeCursor(page.next) : null,
    });
  });

  app.get('/:id', async (c) => c.json(view(await jobs.describe(c.req.param('id')))));

  app.get('/:id/events', async (c) => {
    const jobId = c.req.param('id');
    await jobs.status(jobId);
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
          const progress = await jobs.progress(jobId).catch(() => undefined);
          if (progress)
            await stream.writeSSE({
              event: 'progress',
              data: JSON.stringify(progress),
              id: String((id += 1)),
            });
          if (!isOpen(await jobs.status(jobId))) {
            await stream.writeSSE({
              event: 'done',
              data: JSON.stringify(view(await jobs.describe(jobId))),
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
    const status = await jobs.status(jobId);
    const format = c.req.query('format') ?? 'xlsx';
    if (format !== 'xlsx' && format !== 'csv') throw badRequest('format', 'format must be xlsx or csv');
    const done =
      status === 'COMPLETED' || status === 'CANCELLED' ? await jobs.result(jobId, format) : undefined;
    if (!done) {
      throw new ProblemError(
        409,
        'job_not_finished',
        NO_RESULT[status] ?? `The job is ${status.toLowerCase()}: it has no result.`,
        'id',
        { jobStatus: status },
      );
    }
    const base = path.basename(done.fileName, path.extname(done.fileName));
    const suffix = done.partial ? 'partial' : 'coded';
    return c.body(done.bytes, 200, {
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
    await requireRunning(jobId, 'only a running job can be changed.');
    if (change.concurrency !== undefined) await jobs.setConcurrency(jobId, change.concurrency);
    if (change.paused !== undefined) await (change.paused ? jobs.pause(jobId) : jobs.resume(jobId));
    return c.json(view(await jobs.describe(jobId)));
  });

  app.post('/:id/cancel', async (c) => {
    const jobId = c.req.param('id');
    await requireRunning(jobId, 'there is nothing to cancel.');
    await jobs.cancel(jobId);
    return c.json({ jobId, status: 'CANCELLING', links: links(jobId) }, 202);
  });

  return app;
}

/** Why `GET /jobs/:id/result` has nothing to send, by the job's status. */
const NO_RESULT: Partial<Record<JobStatus, string>> = {
  RUNNING: 'The job is still running: the result is ready when it has completed.',
  CONTINUED_AS_NEW: 'The job is still running: the result is ready when it has completed.',
  PAUSED: 'The job is paused in Temporal: the result is ready when it has been unpaused and completed.',
  COMPLETED: 'The job has completed but its result is no longer stored.',
  CANCELLED: 'The job was cancelled before any row was coded: there is no result.',
  FAILED: 'The job failed: there is no result (GET /jobs/{id} says why).',
  TERMINATED: 'The job was terminated: there is no result.',
  TIMED_OUT: 'The job timed out: there is no result.',
};

/** A page token: the cursor of the last job shown, opaque to clients. */
function encodeCursor(cursor: JobCursor): string {
  return Buffer.from(JSON.stringify({ t: cursor.createdAt.getTime(), id: cursor.jobId })).toString(
    'base64url',
  );
}

function decodeCursor(token: string | undefined): JobCursor | undefined {
  if (!token) return undefined;
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      t?: unknown;
      id?: unknown;
    };
    if (typeof value.t === 'number' && Number.isFinite(value.t) && typeof value.id === 'string') {
      return { createdAt: new Date(value.t), jobId: value.id };
    }
  } catch {
    // fall through
  }
  throw badRequest('pageToken', 'pageToken is not one this API gave out: start again without it');
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
