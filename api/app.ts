import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { extname, sep } from 'node:path';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { MAX_BATCH_SIZE } from '../domain/batching.js';
import { MAX_CONCURRENCY } from '../workflows/definitions.js';
import { bearerAuth } from './auth.js';
import type { AppDeps } from './deps.js';
import { jobsApp } from './jobs.js';
import { openApiDocument } from './openapi.js';
import { ProblemError, problemFor, sendProblem } from './problem.js';

const page = readFileSync(new URL('./public/index.html', import.meta.url), 'utf8');
/**
 * The page's modules and style sheet (each .js and .css file under public/, at its path there): read once at
 * start like the page, and public like it.
 */
const assets = new Map<string, { type: string; body: string }>();
const ASSET_TYPES = new Map([
  ['.js', 'text/javascript'],
  ['.css', 'text/css'],
]);
for (const file of readdirSync(new URL('./public/', import.meta.url), {
  recursive: true,
  encoding: 'utf8',
})) {
  const type = ASSET_TYPES.get(extname(file));
  if (!type) continue;
  const name = `/${file.split(sep).join('/')}`;
  const body = readFileSync(new URL(`./public${name}`, import.meta.url), 'utf8');
  assets.set(name, { type: `${type}; charset=utf-8`, body });
}
const PUBLIC_PATHS = new Set(['/', '/healthz', '/favicon.ico', ...assets.keys()]);

/** The API and the web page. No listening and no environment here: `server.ts` does that. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.use('*', async (c, next) => {
    const started = performance.now();
    c.header('x-request-id', requestId(c.req.header('x-request-id')));
    await next();
    deps.logger?.debug(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      'request',
    );
  });
  app.use(
    '*',
    bearerAuth(deps.apiToken, (path) => PUBLIC_PATHS.has(path)),
  );

  app.get('/', (c) => c.html(page));
  app.get('/favicon.ico', (c) => c.body(null, 204));
  for (const [name, asset] of assets) {
    app.get(name, (c) =>
      c.body(asset.body, 200, { 'content-type': asset.type, 'cache-control': 'no-cache' }),
    );
  }

  app.get('/healthz', async (c) => {
    try {
      await withTimeout(deps.jobs.health(), 3_000);
      return c.json({ status: 'ok', temporal: 'ok' });
    } catch (error) {
      deps.logger?.warn({ err: error }, 'health check: Temporal unreachable');
      return c.json({ status: 'unavailable', temporal: 'unreachable' }, 503);
    }
  });

  app.get('/openapi.json', (c) => c.json(openApiDocument()));
  // What a form needs to show the server's defaults and limits (no secrets in here).
  app.get('/settings', (c) =>
    c.json({
      defaults: {
        batchSize: deps.defaults.batchSize,
        concurrency: deps.defaults.maxWorkers,
        parallel: deps.defaults.parallel,
        minResponsesForParallel: deps.defaults.minResponsesForParallel,
        model: deps.defaults.model,
        temperature: deps.defaults.temperature,
      },
      limits: {
        maxUploadBytes: deps.maxUploadBytes,
        maxBatchSize: MAX_BATCH_SIZE,
        maxConcurrency: MAX_CONCURRENCY,
      },
      temporalUiUrl: deps.temporalUiUrl ?? null,
    }),
  );
  app.route('/jobs', jobsApp(deps));

  app.notFound((c) =>
    sendProblem(
      c,
      problemFor(
        new ProblemError(404, 'not_found', `No route ${c.req.method} ${c.req.path}`),
        requestIdOf(c),
      ),
    ),
  );
  app.onError((error, c) => {
    const id = requestIdOf(c);
    const problem = problemFor(error, id);
    if (problem.status >= 500)
      deps.logger?.error({ err: error, requestId: id, path: c.req.path }, 'request failed');
    return sendProblem(c, problem);
  });
  return app;
}

/** The id the first middleware put on the response (a fresh one if the error came before it). */
function requestIdOf(c: Context): string {
  return c.res.headers.get('x-request-id') ?? randomUUID();
}

function requestId(given: string | undefined): string {
  return given && /^[\w-]{1,100}$/.test(given) ? given : randomUUID();
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref(),
    ),
  ]);
}
