import path from 'node:path';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { JobStatus } from '../jobs/service.js';
import type { CodeframeDescription } from '../jobs/codeframes.js';
import type { AppDeps } from './deps.js';
import { contentDisposition, fileOf, uploadLimit } from './jobs.js';
import { ProblemError, refuseInvalid } from './problem.js';
import { formOrJsonBody, isJson } from './requests.js';
import {
  cancelCodeframeRoute,
  codeframeResultRoute,
  createCodeframeRoute,
  getCodeframeRoute,
} from './routes.js';

/** `/codeframes`: draft the categories from a column's answers, follow the draft, fetch it, cancel it. */
export function codeframesApp(deps: AppDeps) {
  const app = new OpenAPIHono({ defaultHook: refuseInvalid });
  const { codeframes } = deps;
  const upload = uploadLimit(deps);

  const links = (id: string) => ({
    self: `/codeframes/${id}`,
    result: `/codeframes/${id}/result`,
    cancel: `/codeframes/${id}/cancel`,
    ...(deps.temporalUiUrl
      ? {
          temporal: `${deps.temporalUiUrl}/namespaces/${encodeURIComponent(deps.namespace)}/workflows/${id}`,
        }
      : {}),
  });

  const view = (d: CodeframeDescription) => ({
    codeframeId: d.codeframeId,
    status: d.status,
    fileName: d.fileName,
    column: d.column,
    createdAt: d.createdAt.toISOString(),
    closedAt: d.closedAt?.toISOString() ?? null,
    progress: d.progress,
    codeframe: d.codeframe,
    ...(d.error ? { error: d.error } : {}),
    links: links(d.codeframeId),
  });

  app.openapi({ ...createCodeframeRoute, middleware: [upload, formOrJsonBody] }, async (c) => {
    // `formOrJsonBody` lets only a form or JSON through, each validated by its own schema.
    const form = isJson(c.req.header('content-type')) ? c.req.valid('json') : c.req.valid('form');
    const started = await codeframes.create({
      ...(await fileOf(deps, 'file' in form ? form.file : undefined, form.jobId)),
      column: form.column,
      ...(form.sheet ? { sheet: form.sheet } : {}),
      ...(form.question ? { question: form.question } : {}),
      settings: {
        ...(form.maxCodes !== undefined ? { maxCodes: form.maxCodes } : {}),
        ...(form.minShare !== undefined ? { minShare: form.minShare } : {}),
        ...(form.readCap !== undefined ? { readCap: form.readCap } : {}),
        ...(form.readTokens !== undefined ? { readTokens: form.readTokens } : {}),
        ...(form.measureSample !== undefined ? { measureSample: form.measureSample } : {}),
        ...(form.seed !== undefined ? { seed: form.seed } : {}),
      },
      options: {
        ...deps.defaults,
        ...(form.concurrency !== undefined ? { maxWorkers: form.concurrency } : {}),
        ...(form.temperature !== undefined ? { temperature: form.temperature } : {}),
        ...(form.model !== undefined ? { model: form.model } : {}),
      },
      // Each request its own draft: an unguessable id, as jobs from the API have.
      idFrom: 'random',
    });
    const id = started.codeframeId;
    return c.json({ codeframeId: id, status: 'RUNNING' as const, links: links(id) }, 202, {
      location: `/codeframes/${id}`,
    });
  });

  app.openapi(getCodeframeRoute, async (c) =>
    c.json(view(await codeframes.describe(c.req.valid('param').id)), 200),
  );

  app.openapi(codeframeResultRoute, async (c) => {
    const id = c.req.valid('param').id;
    const { format } = c.req.valid('query');
    const status = await codeframes.status(id);
    const done = status === 'COMPLETED' ? await codeframes.download(id, format) : undefined;
    if (!done) {
      throw new ProblemError(
        409,
        'codeframe_not_finished',
        NO_RESULT[status] ?? `The draft is ${status.toLowerCase()}: it has no codeframe.`,
        'id',
        { jobStatus: status },
      );
    }
    const base = path.basename(done.fileName, path.extname(done.fileName));
    return c.body(done.bytes, 200, {
      'content-type':
        format === 'txt'
          ? 'text/plain; charset=utf-8'
          : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'content-disposition': contentDisposition(`${base}.categories.${format}`),
    });
  });

  app.openapi(cancelCodeframeRoute, async (c) => {
    const id = c.req.valid('param').id;
    const status = await codeframes.status(id);
    if (status !== 'RUNNING') {
      throw new ProblemError(
        409,
        'codeframe_not_running',
        `The draft is ${status.toLowerCase()}: there is nothing to cancel.`,
        'id',
        { jobStatus: status },
      );
    }
    await codeframes.cancel(id);
    return c.json({ codeframeId: id, status: 'CANCELLING' as const, links: links(id) }, 202);
  });

  return app;
}

/** Why `GET /codeframes/:id/result` has nothing to send, by the draft's status. */
const NO_RESULT: Partial<Record<JobStatus, string>> = {
  RUNNING: 'The draft is still running: the codeframe is ready when it has completed.',
  COMPLETED: 'The draft has completed but its files are no longer stored.',
  CANCELLED: 'The draft was cancelled: it has no codeframe (start it again to resume it).',
  FAILED: 'The draft failed: it has no codeframe (GET /codeframes/{id} says why).',
  TERMINATED: 'The draft was terminated: it has no codeframe.',
  TIMED_OUT: 'The draft timed out: it has no codeframe.',
};
