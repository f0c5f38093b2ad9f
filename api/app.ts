import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { except } from 'hono/combine';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import type { RequestIdVariables } from 'hono/request-id';
import { BEARER_TOKEN } from '../lib/config.js';
import { MAX_BATCH_SIZE } from '../domain/batching.js';
import { DEFAULT_MAX_CODES, MAX_CODES_LIMIT } from '../domain/prompt.js';
import { MAX_CONCURRENCY } from '../workflows/definitions.js';
import type { AppDeps } from './deps.js';
import { codeframesApp } from './codeframes.js';
import { jobsApp } from './jobs.js';
import { tablesApp } from './tables.js';
import { ProblemError, problemFor, refuseInvalid, sendProblem } from './problem.js';
import { documentRoute, healthRoute, settingsRoute } from './routes.js';

/** The web page (`index.html`, served at `/`) and the files it loads. */
const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));
/**
 * The page's modules and style sheets (each .js and .css file under api/public), as the paths they are served
 * at. The folder also holds the page's type-checking files (`*.d.ts`, tsconfig.json): not served. Listed
 * once at start, each a route of its own, so the route table says what is public and no other path reaches
 * the file system.
 */
const PUBLIC_FILES = readdirSync(PUBLIC_DIR, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && /\.(js|css)$/.test(e.name))
  .map((e) => path.relative(PUBLIC_DIR, path.join(e.parentPath, e.name)).split(path.sep))
  // Hidden files and folders (an editor's, a tool's) are no part of the page.
  .filter((parts) => !parts.some((part) => part.startsWith('.')))
  .map((parts) => `/${parts.join('/')}`)
  .sort();
const PUBLIC_PATHS = new Set(['/', '/healthz', '/favicon.ico', ...PUBLIC_FILES]);

/** What every handler can read: the request's id (`c.get('requestId')`). */
export type AppEnv = { Variables: RequestIdVariables };

/** The app `createApp` builds: routes described for OpenAPI. */
export type App = OpenAPIHono<AppEnv>;

/** The API and the web page. No listening and no environment here: `server.ts` does that. */
export function createApp(deps: AppDeps): App {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: refuseInvalid });

  // The id a client sent when it is a safe token (letters, digits, `_`, `-`, `=`; at most 100), else a UUID:
  // on every response (`x-request-id`) and in every problem (`requestId`).
  app.use(requestId({ limitLength: 100 }));
  app.use('*', async (c, next) => {
    const started = performance.now();
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
  // Everything but the public paths needs the token, so that an unknown or look-alike path is refused
  // before it is found missing.
  if (deps.apiToken)
    app.use(
      '*',
      except((c) => PUBLIC_PATHS.has(c.req.path), tokenRequired(deps.apiToken)),
    );

  // Content types by extension; `no-cache`: a browser checks for a newer page or script on each load.
  const noCache: MiddlewareHandler = async (c, next) => {
    c.header('cache-control', 'no-cache');
    await next();
  };
  app.get('/', noCache, serveStatic({ root: PUBLIC_DIR, path: 'index.html' }));
  app.get('/favicon.ico', (c) => c.body(null, 204));
  const publicFile = serveStatic({ root: PUBLIC_DIR });
  for (const file of PUBLIC_FILES) app.get(file, noCache, publicFile);

  app.openapi(healthRoute, async (c) => {
    try {
      await withTimeout(deps.jobs.health(), 3_000);
      return c.json({ status: 'ok' as const, temporal: 'ok' as const }, 200);
    } catch (error) {
      deps.logger?.warn({ err: error }, 'health check: Temporal unreachable');
      return c.json({ status: 'unavailable' as const, temporal: 'unreachable' as const }, 503);
    }
  });

  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  app.openapi(documentRoute, (c) => {
    // Generated from the routes once, at the first request: every route is registered by then.
    document ??= app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: {
        title: 'verbatim',
        version: '0.1.0',
        description:
          'Codes open-ended survey answers from Excel or CSV into categories with an LLM. Each job is a durable Temporal workflow whose id is the job id. Errors are problem documents (RFC 9457 shape); every response carries an `x-request-id` header (the one sent, when it is valid), which a problem repeats as `requestId`.',
      },
      security: [{ bearer: [] }],
    });
    return c.json(document, 200);
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'API_TOKEN, when set',
  });

  // What a form needs to show the server's defaults and limits (no secrets in here).
  app.openapi(settingsRoute, (c) =>
    c.json(
      {
        defaults: {
          batchSize: deps.defaults.batchSize,
          concurrency: deps.defaults.maxWorkers,
          parallel: deps.defaults.parallel,
          minResponsesForParallel: deps.defaults.minResponsesForParallel,
          model: deps.defaults.model,
          temperature: deps.defaults.temperature,
          multi: deps.defaults.multi ?? false,
          maxCodes: deps.defaults.maxCodes ?? DEFAULT_MAX_CODES,
          batchApi: deps.defaults.batchApi ?? false,
        },
        limits: {
          maxUploadBytes: deps.maxUploadBytes,
          maxBatchSize: MAX_BATCH_SIZE,
          maxConcurrency: MAX_CONCURRENCY,
          maxCodes: MAX_CODES_LIMIT,
        },
        temporalUiUrl: deps.temporalUiUrl ?? null,
        simulated: deps.simulated ?? null,
      },
      200,
    ),
  );
  app.route('/jobs', jobsApp(deps));
  app.route('/jobs', tablesApp(deps));
  app.route('/codeframes', codeframesApp(deps));

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
    // The bearer-auth middleware's refusals carry their problem body already.
    if (error instanceof HTTPException && error.res) return error.getResponse();
    const id = requestIdOf(c);
    const problem = problemFor(error, id);
    if (problem.status >= 500)
      deps.logger?.error({ err: error, requestId: id, path: c.req.path }, 'request failed');
    return sendProblem(c, problem);
  });
  return app;
}

/** The request's id, set by the first middleware (a fresh one if the error came before it). */
function requestIdOf(c: Context<AppEnv>): string {
  return c.get('requestId') ?? randomUUID();
}

/**
 * Bearer-token access (hono/bearer-auth: both sides hashed, then compared in constant time), refused with a
 * problem body. The scheme is matched in any case and the token must be a token68 (RFC 6750): letters,
 * digits and `-._~+/`, then `=` padding. The web page and its assets carry no data and stay public: a browser
 * cannot send a header with a page load, so the page asks for the token and sends it with every API call.
 */
function tokenRequired(token: string): MiddlewareHandler<AppEnv> {
  if (!BEARER_TOKEN.test(token)) {
    throw new Error(
      'API_TOKEN may hold only letters, digits and -._~+/ (then = padding): a bearer token cannot carry other characters',
    );
  }
  const refuse = (detail: string) => (c: Context<AppEnv>) =>
    sendProblem(
      c,
      problemFor(new ProblemError(401, 'unauthorized', detail, 'authorization'), requestIdOf(c)),
    );
  const realm = 'Bearer realm="verbatim"';
  const missing = refuse('Send Authorization: Bearer <API_TOKEN>.');
  return bearerAuth({
    token,
    noAuthenticationHeader: { message: missing, wwwAuthenticateHeader: realm },
    // Another scheme, or no token after it: said as if nothing had been sent.
    invalidAuthenticationHeader: { message: missing, wwwAuthenticateHeader: realm },
    invalidToken: {
      message: refuse('The bearer token is not valid.'),
      wwwAuthenticateHeader: `${realm}, error="invalid_token"`,
    },
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref(),
    ),
  ]);
}
