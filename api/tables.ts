import { OpenAPIHono } from '@hono/zod-openapi';
import { tableNotes } from '../domain/banner-tables.js';
import type { AppDeps } from './deps.js';
import { ProblemError, refuseInvalid } from './problem.js';
import { jobTablesRoute } from './routes.js';

/** `GET /jobs/:id/tables`: tables by segment, from a finished (or cancelled) job's stored output. */
export function tablesApp(deps: Pick<AppDeps, 'jobs'>) {
  const app = new OpenAPIHono({ defaultHook: refuseInvalid });
  app.openapi(jobTablesRoute, async (c) => {
    const jobId = c.req.valid('param').id;
    const { by } = c.req.valid('query');
    const status = await deps.jobs.status(jobId);
    if (status !== 'COMPLETED' && status !== 'CANCELLED') {
      throw new ProblemError(
        409,
        'job_not_finished',
        `The job is ${status.toLowerCase()}: tables are made from its output, once it has completed or been cancelled.`,
        'id',
        { jobStatus: status },
      );
    }
    const { header, tables } = await deps.jobs.tables(jobId, by);
    return c.json({ jobId, header, tables: tables.map((t) => ({ ...t, notes: tableNotes(t) })) }, 200);
  });
  return app;
}
