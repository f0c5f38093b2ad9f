import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { z } from '@hono/zod-openapi';
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import type { JobDescription, JobStatus, JobSummary, ResultFormat } from '../jobs/service.js';
import { isOpen } from '../jobs/service.js';
import type { FileSource } from '../jobs/ids.js';
import { DomainError, JobNotFoundError, throwProblems } from '../domain/errors.js';
import { sheetFormatOf } from '../domain/sheet-format.js';
import type { AppDeps } from './deps.js';
import type { FieldProblem } from './problem.js';
import {
  ProblemError,
  badRequest,
  fieldProblemOf,
  refuseAll,
  refuseInvalid,
  schemaProblems,
} from './problem.js';
import { JobFormSchema, JobJsonSchema, encodeCursor, formOrJsonBody, isJson, jsonBody } from './requests.js';
import type { JobOptions } from '../domain/job.js';
import {
  cancelJobRoute,
  changeJobRoute,
  createJobRoute,
  deleteJobRoute,
  estimateJobRoute,
  getJobRoute,
  jobEventsRoute,
  jobResultRoute,
  listJobsRoute,
  previewRoute,
  retryJobRoute,
  jobSummaryRoute,
} from './routes.js';

/** `/jobs`: start, list, watch, change, cancel and download classification jobs. */
export function jobsApp(deps: AppDeps) {
  const app = new OpenAPIHono({ defaultHook: refuseInvalid });
  const { jobs } = deps;
  const upload = uploadLimit(deps);

  const links = (jobId: string) => ({
    self: `/jobs/${jobId}`,
    events: `/jobs/${jobId}/events`,
    result: `/jobs/${jobId}/result`,
    cancel: `/jobs/${jobId}/cancel`,
    summary: `/jobs/${jobId}/summary`,
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
    name: d.name,
    fileName: d.fileName,
    column: d.column,
    simulated: d.simulated,
    createdAt: d.createdAt.toISOString(),
    closedAt: d.closedAt?.toISOString() ?? null,
    progress: d.progress,
    stats: d.stats,
    ...(d.quality ? { quality: d.quality } : {}),
    ...(d.error ? { error: d.error } : {}),
    ...(d.startedWith ? { startedWith: d.startedWith } : {}),
    links: links(d.jobId),
  });

  // The same-job key stays server-side: it is a hash of the upload.
  const listed = ({ sameKey: _, ...job }: JobSummary) => ({
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

  type JobForm = z.infer<typeof JobFormSchema>;

  /** Settings that need another field: each a problem, reported with the rest. */
  function optionProblems(form: JobForm): FieldProblem[] {
    const problems: FieldProblem[] = [];
    const multi = form.multi ?? deps.defaults.multi ?? false;
    if (form.maxCodes !== undefined && !multi) {
      problems.push({
        field: 'maxCodes',
        code: 'invalid_field',
        detail: `maxCodes=${form.maxCodes}: applies only with several categories per answer (multi=true)`,
      });
    }
    if (form.examplesFromGold !== undefined && !form.goldColumn) {
      problems.push({
        field: 'examplesFromGold',
        code: 'invalid_field',
        detail: `examplesFromGold=${form.examplesFromGold}: needs goldColumn (the answers coded by hand)`,
      });
    }
    return problems;
  }

  /** The job's options: the defaults, overridden by the form's settings (`refuseCrossedSettings` passed). */
  function optionsOf(form: JobForm): JobOptions {
    return {
      ...deps.defaults,
      ...(form.batchSize !== undefined ? { batchSize: form.batchSize } : {}),
      ...(form.concurrency !== undefined ? { maxWorkers: form.concurrency } : {}),
      ...(form.temperature !== undefined ? { temperature: form.temperature } : {}),
      ...(form.model !== undefined ? { model: form.model } : {}),
      ...(form.parallel !== undefined ? { parallel: form.parallel } : {}),
      ...(form.multi !== undefined ? { multi: form.multi } : {}),
      ...(form.maxCodes !== undefined ? { maxCodes: form.maxCodes } : {}),
      ...(form.maxCost !== undefined ? { maxCost: form.maxCost } : {}),
      ...(form.batchApi !== undefined ? { batchApi: form.batchApi } : {}),
      ...(form.reviewModel !== undefined ? { reviewModel: form.reviewModel } : {}),
      ...(form.examplesFromGold !== undefined ? { examplesFromGold: form.examplesFromGold } : {}),
    };
  }

  /** The form's column, sheet, question and categories, as a job takes them. */
  const jobFields = (form: JobForm) => ({
    column: form.column,
    ...(form.sheet ? { sheet: form.sheet } : {}),
    ...(form.goldColumn ? { goldColumn: form.goldColumn } : {}),
    ...(form.by ? { by: form.by } : {}),
    ...(form.question ? { question: form.question } : {}),
    categories: form.categories.list,
  });

  /** The columns a job form names, as far as they passed their own checks (the answer column at least). */
  interface NamedColumns {
    file?: File | undefined;
    jobId?: string | undefined;
    sheet?: string | undefined;
    column: string;
    goldColumn?: string | undefined;
    by?: readonly string[] | undefined;
  }

  /**
   * The mistakes in the columns a form names, looked for in its file (or its job's) without storing it, so
   * that a form refused for its settings names them too; a file or sheet that cannot be read is one problem.
   */
  async function columnProblemsOf(named: NamedColumns): Promise<FieldProblem[]> {
    try {
      return (await columnErrorsOf(named)).map(fieldProblemOf);
    } catch (error) {
      // No file to look into (a jobId no job keeps an upload under): named with the rest.
      if (error instanceof ProblemError && error.field) {
        return [{ field: error.field, code: error.code, detail: error.detail }];
      }
      throw error;
    }
  }

  /** `columnProblemsOf`'s mistakes as the domain's errors, each with its own status. */
  async function columnErrorsOf(named: NamedColumns): Promise<DomainError[]> {
    try {
      return await withFile(named, (tmp, fileName) => columnErrorsIn(tmp, fileName, named));
    } catch (error) {
      if (error instanceof DomainError) return [error];
      throw error;
    }
  }

  /** The mistakes in the columns `named`, in the file at `tmp`; one that cannot be read is thrown. */
  function columnErrorsIn(tmp: string, fileName: string, named: NamedColumns): Promise<DomainError[]> {
    return jobs.checkColumns({
      path: tmp,
      displayName: fileName,
      format: sheetFormatOf(fileName),
      ...(named.sheet ? { sheet: named.sheet } : {}),
      column: named.column,
      ...(named.goldColumn ? { goldColumn: named.goldColumn } : {}),
      ...(named.by?.length ? { by: named.by } : {}),
    });
  }

  /**
   * Settings refused for another field's sake (maxCodes without multi), refused with the columns' mistakes
   * in one problem, so that a person fixes everything at once. Else nothing: the job or estimate goes on.
   */
  async function refuseCrossedSettings(form: JobForm & { file?: File | undefined }): Promise<void> {
    const refused = optionProblems(form);
    if (refused.length > 0) refuseAll([...refused, ...(await columnProblemsOf(form))]);
  }

  /** Fields whose own refusal leaves no file, sheet or column to look into. */
  const BLOCKING = new Set(['file', 'jobId', 'body', 'sheet', 'column']);

  /**
   * `POST /jobs`'s validation hook: a refused form is refused for its columns' mistakes too (the column, the
   * column coded by hand, each banner), in the same 400 problem, so that a person fixes everything at once.
   */
  async function refuseJobForm(result: {
    target: string;
    success: false;
    error: z.ZodError;
  }): Promise<never> {
    const problems = schemaProblems(result);
    // The validator hands the hook what it validated (its types say so only on success).
    const raw = 'data' in result ? (result as { data: unknown }).data : undefined;
    if ((result.target !== 'form' && result.target !== 'json') || typeof raw !== 'object' || raw === null) {
      refuseAll(problems);
    }
    // Each field read alone, as the form's schema reads it: those refused are left out.
    const shape: Record<string, z.ZodType | undefined> =
      result.target === 'json' ? JobJsonSchema.shape : JobFormSchema.shape;
    const values = raw as Record<string, unknown>;
    const read = async (name: string): Promise<unknown> => {
      if (problems.some((p) => p.field === name)) return undefined;
      const parsed = await shape[name]?.safeParseAsync(values[name]);
      return parsed?.success ? parsed.data : undefined;
    };
    const [file, jobId, sheet, column, goldColumn, by, multi, maxCodes, examplesFromGold] = await Promise.all(
      ['file', 'jobId', 'sheet', 'column', 'goldColumn', 'by', 'multi', 'maxCodes', 'examplesFromGold'].map(
        read,
      ),
    );
    // Settings refused for another field's sake (maxCodes without multi), with the fields refused alone;
    // not when the field they depend on was refused itself (it was sent, just wrong).
    const refusedAlone = new Set(problems.map((p) => p.field));
    problems.push(
      ...optionProblems({ multi, maxCodes, examplesFromGold, goldColumn } as JobForm).filter(
        (p) =>
          !(p.field === 'maxCodes' && refusedAlone.has('multi')) &&
          !(p.field === 'examplesFromGold' && refusedAlone.has('goldColumn')),
      ),
    );
    if (
      !problems.some((p) => BLOCKING.has(p.field)) &&
      typeof column === 'string' &&
      (file instanceof File || typeof jobId === 'string')
    ) {
      problems.push(
        ...(await columnProblemsOf({
          column,
          ...(file instanceof File ? { file } : { jobId: jobId as string }),
          ...(typeof sheet === 'string' ? { sheet } : {}),
          ...(typeof goldColumn === 'string' ? { goldColumn } : {}),
          ...(Array.isArray(by) ? { by: by as string[] } : {}),
        })),
      );
    }
    refuseAll(problems);
  }

  app.openapi(
    { ...createJobRoute, middleware: [upload, formOrJsonBody] },
    async (c) => {
      // `formOrJsonBody` lets only a form or JSON through, each validated by its own schema.
      const form = isJson(c.req.header('content-type')) ? c.req.valid('json') : c.req.valid('form');
      await refuseCrossedSettings(form);
      const options = optionsOf(form);
      const started = await jobs.create({
        ...(await fileOf(deps, 'file' in form ? form.file : undefined, form.jobId)),
        ...jobFields(form),
        categoriesText: form.categories.text,
        options,
        idFrom: 'random',
        ...(form.name ? { name: form.name } : {}),
        ...(form.force ? { force: true } : {}),
      });
      if (started.state === 'duplicate') {
        const status = await jobs.status(started.jobId);
        return c.json(
          { jobId: started.jobId, status, duplicate: true as const, links: links(started.jobId) },
          200,
        );
      }
      return c.json({ jobId: started.jobId, status: 'RUNNING' as const, links: links(started.jobId) }, 202, {
        location: `/jobs/${started.jobId}`,
      });
    },
    (result) => (result.success ? undefined : refuseJobForm(result)),
  );

  /** Uploads land under DATA_DIR only, under a random name, and are removed once `use` is done. */
  async function withUpload<T>(file: File, use: (tmp: string, fileName: string) => Promise<T>): Promise<T> {
    const fileName = safeFileName(file.name);
    const dir = path.join(deps.dataDir, 'uploads');
    await fs.mkdir(dir, { recursive: true });
    const tmp = path.join(dir, `${randomBytes(12).toString('hex')}.${sheetFormatOf(fileName)}`);
    await fs.writeFile(tmp, new Uint8Array(await file.arrayBuffer()));
    try {
      return await use(tmp, fileName);
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  /** The file on disk a form names: its upload, for as long as `use` runs, else the job's stored copy. */
  async function withFile<T>(
    form: { file?: File | undefined; jobId?: string | undefined },
    use: (tmp: string, fileName: string) => Promise<T>,
  ): Promise<T> {
    if (form.file) return withUpload(form.file, use);
    const stored = await jobFile(deps, form.jobId);
    return use(stored.path, stored.fileName);
  }

  app.openapi({ ...previewRoute, middleware: [upload, formOrJsonBody] }, async (c) => {
    const form = isJson(c.req.header('content-type')) ? c.req.valid('json') : c.req.valid('form');
    const { sheet } = form;
    const preview = await withFile(form, async (tmp, fileName) => {
      const format = sheetFormatOf(fileName);
      const sheets = await deps.preview({
        path: tmp,
        displayName: fileName,
        format,
        ...(sheet ? { sheet } : {}),
        rows: 5,
      });
      return { fileName, format, ...sheets };
    });
    return c.json(preview, 200);
  });

  app.openapi(
    { ...estimateJobRoute, middleware: [upload, formOrJsonBody] },
    async (c) => {
      const form = isJson(c.req.header('content-type')) ? c.req.valid('json') : c.req.valid('form');
      await refuseCrossedSettings(form);
      const estimate = await withFile(form, async (tmp, fileName) => {
        throwProblems(await columnErrorsIn(tmp, fileName, form));
        return deps.estimate({
          path: tmp,
          fileName,
          format: sheetFormatOf(fileName),
          ...jobFields(form),
          options: optionsOf(form),
        });
      });
      return c.json(estimate, 200);
    },
    (result) => (result.success ? undefined : refuseJobForm(result)),
  );

  app.openapi(listJobsRoute, async (c) => {
    const { pageSize, pageToken } = c.req.valid('query');
    const page = await jobs.list({ limit: pageSize, after: pageToken });
    return c.json(
      { jobs: page.jobs.map(listed), nextPageToken: page.next ? encodeCursor(page.next) : null },
      200,
    );
  });

  app.openapi(getJobRoute, async (c) => c.json(view(await jobs.describe(c.req.valid('param').id)), 200));

  app.openapi(jobEventsRoute, async (c) => {
    const jobId = c.req.valid('param').id;
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

  /**
   * What a job left to download or read: completed, cancelled or failed after it coded some rows. A 409
   * naming its status otherwise.
   */
  async function ended<T>(jobId: string, read: () => Promise<T | undefined>): Promise<T> {
    const status = await jobs.status(jobId);
    const done = RESULT_STATUSES.has(status) ? await read() : undefined;
    if (done === undefined) {
      throw new ProblemError(
        409,
        'job_not_finished',
        NO_RESULT[status] ?? `The job is ${status.toLowerCase()}: it has no result.`,
        'id',
        { jobStatus: status },
      );
    }
    return done;
  }

  app.openapi(jobResultRoute, async (c) => {
    const jobId = c.req.valid('param').id;
    const { format } = c.req.valid('query');
    const done = await ended(jobId, () => jobs.result(jobId, format));
    const base = path.basename(done.fileName, path.extname(done.fileName));
    const suffix = done.partial ? 'partial' : 'coded';
    return c.body(done.bytes, 200, {
      'content-type': RESULT_TYPES[format],
      'content-disposition': contentDisposition(`${base}.${suffix}.${format}`),
    });
  });

  app.openapi(jobSummaryRoute, async (c) => {
    const jobId = c.req.valid('param').id;
    const [summary, status] = await Promise.all([
      ended(jobId, () => jobs.summary(jobId)),
      jobs.status(jobId),
    ]);
    return c.json({ jobId, status, ...summary }, 200);
  });

  app.openapi({ ...changeJobRoute, middleware: [jsonBody] }, async (c) => {
    const jobId = c.req.valid('param').id;
    const change = c.req.valid('json');
    await requireRunning(jobId, 'only a running job can be changed.');
    if (change.concurrency !== undefined) await jobs.setConcurrency(jobId, change.concurrency);
    if (change.paused !== undefined) await (change.paused ? jobs.pause(jobId) : jobs.resume(jobId));
    if (change.maxCost !== undefined) await jobs.setMaxCost(jobId, change.maxCost);
    return c.json(view(await jobs.describe(jobId)), 200);
  });

  app.openapi(retryJobRoute, async (c) => {
    const jobId = c.req.valid('param').id;
    await jobs.retry(jobId);
    return c.json({ jobId, status: 'RUNNING' as const, links: links(jobId) }, 202);
  });

  app.openapi(deleteJobRoute, async (c) => {
    await jobs.remove(c.req.valid('param').id);
    return c.body(null, 204);
  });

  app.openapi(cancelJobRoute, async (c) => {
    const jobId = c.req.valid('param').id;
    await requireRunning(jobId, 'there is nothing to cancel.');
    await jobs.cancel(jobId);
    return c.json({ jobId, status: 'CANCELLING' as const, links: links(jobId) }, 202);
  });

  return app;
}

const RESULT_TYPES: Readonly<Record<ResultFormat, string>> = {
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  csv: 'text/csv; charset=utf-8',
  sav: 'application/x-spss-sav',
};

/** Jobs that may have written an output: a failed one writes the rows it coded before it failed. */
const RESULT_STATUSES: ReadonlySet<JobStatus> = new Set(['COMPLETED', 'CANCELLED', 'FAILED']);

/** Why `GET /jobs/:id/result` has nothing to send, by the job's status. */
const NO_RESULT: Partial<Record<JobStatus, string>> = {
  RUNNING: 'The job is still running: the result is ready when it has completed.',
  CONTINUED_AS_NEW: 'The job is still running: the result is ready when it has completed.',
  PAUSED: 'The job is paused in Temporal: the result is ready when it has been unpaused and completed.',
  COMPLETED: 'The job has completed but its result is no longer stored.',
  CANCELLED: 'The job was cancelled before any row was coded: there is no result.',
  FAILED: 'The job failed before any row was coded: there is no result (GET /jobs/{id} says why).',
  TERMINATED: 'The job was terminated: there is no result.',
  TIMED_OUT: 'The job timed out: there is no result.',
};

/** Uploads over MAX_UPLOAD_MB are refused before they are read, naming the `file` field. */
export function uploadLimit(deps: Pick<AppDeps, 'maxUploadBytes'>) {
  return bodyLimit({
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
}

/**
 * The stored upload of the job a request names by `jobId` (`POST /jobs`, `/codeframes`, …): a 404 naming
 * `jobId` when no job keeps one. The schemas refuse a body with neither a file nor a jobId.
 */
export async function jobFile(deps: Pick<AppDeps, 'jobs'>, jobId: string | undefined) {
  if (!jobId) throw badRequest('file', 'no file uploaded', 'file_missing');
  try {
    return await deps.jobs.input(jobId);
  } catch (error) {
    // The id is the body's, not the path's: named as `jobId`, not `id`.
    if (error instanceof JobNotFoundError) {
      throw new ProblemError(
        404,
        'job_not_found',
        `No job ${JSON.stringify(jobId)} keeps an uploaded file: jobId names a job started with POST /jobs (GET /jobs lists them), or send the file itself`,
        'jobId',
      );
    }
    throw error;
  }
}

/** The file a request reads, as a job or a draft takes it: the upload, else the stored copy `jobId` names. */
export async function fileOf(
  deps: Pick<AppDeps, 'jobs'>,
  file: File | undefined,
  jobId: string | undefined,
): Promise<{ fileName: string; source: FileSource }> {
  if (file) {
    return { fileName: safeFileName(file.name), source: { bytes: new Uint8Array(await file.arrayBuffer()) } };
  }
  const stored = await jobFile(deps, jobId);
  return { fileName: stored.fileName, source: { path: stored.path } };
}

/** A display name only: never used as a path. */
export function safeFileName(name: string): string {
  const base = name.replace(/\\/g, '/').split('/').pop() ?? 'upload';
  // eslint-disable-next-line no-control-regex
  return base.replace(/[\u0000-\u001f"]/g, '').slice(0, 200) || 'upload';
}

export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}
