import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import type { ConnectionLike } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../api/app.js';
import type { JobSpec } from '../../domain/job.js';
import { DEFAULT_MAX_CODES, MAX_CODES_LIMIT } from '../../domain/prompt.js';
import type { JobCursor, JobSummary } from '../../jobs/service.js';
import { JOB_WORKFLOW_TYPE, createJobService, pageOfJobs } from '../../jobs/service.js';
import { JobStore } from '../../lib/store.js';
import { inspectColumn } from '../../sheets/index.js';
import { progressOf } from '../helpers/fake-jobs.js';
import type { FakeApi } from './helpers.js';
import { createFakeApi, exampleJob, post } from './helpers.js';

/**
 * What the app serves, on the in-memory job service (no Temporal server, one file to load the app once):
 * the generated document against the routes the app really has, the web page's files, and jobs as
 * `GET /jobs` lists them from visibility.
 */

let api: FakeApi;
/** With API_TOKEN set. */
let locked: App;
beforeAll(async () => {
  api = await createFakeApi();
  locked = api.makeApp({ apiToken: 'routes-test-token' });
});
afterAll(async () => {
  await api?.close();
});

// --- The document: `/openapi.json` is generated from the routes the app registers (api/routes.ts); this
// walks what the app really serves (`app.routes`) and the document both ways. service.test.ts checks the
// documented statuses and bodies against real answers.

const PUBLIC_DIR = path.resolve(import.meta.dirname, '../../api/public');

interface Operation {
  readonly responses: Record<string, { description?: string; content?: Record<string, unknown> }>;
  readonly parameters?: Array<{ name: string; in: string }>;
  readonly requestBody?: unknown;
  readonly security?: unknown[];
}
type Document = { paths: Record<string, Record<string, Operation>> };

async function document(): Promise<Document> {
  const response = await api.request('/openapi.json');
  expect(response.status).toBe(200);
  return (await response.json()) as Document;
}

/** The web page and what it loads (each .js and .css under api/public): served beside the API, not part of it. */
const PAGE = [
  'GET /',
  'GET /favicon.ico',
  ...readdirSync(PUBLIC_DIR, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(js|css)$/.test(e.name))
    .map((e) => path.relative(PUBLIC_DIR, path.join(e.parentPath, e.name)).split(path.sep))
    .filter((parts) => !parts.some((part) => part.startsWith('.')))
    .map((parts) => `GET /${parts.join('/')}`),
];

/** `GET /jobs/{id}`: each route the app serves (middleware aside), as the document names it. */
function served(): string[] {
  const routes = api.app.routes
    .filter((r) => r.method !== 'ALL')
    .map((r) => `${r.method} ${(r.path.replace(/\/$/, '') || '/').replace(/:(\w+)/g, '{$1}')}`);
  return [...new Set(routes)].sort();
}

function operations(doc: Document): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, byMethod]) => Object.keys(byMethod).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

function operation(doc: Document, name: string): Operation {
  const [method = '', path = ''] = name.split(' ');
  const found = doc.paths[path]?.[method.toLowerCase()];
  if (!found) throw new Error(`${name} is not documented`);
  return found;
}

describe('the generated document', () => {
  it('documents every route the app serves but the web page, and only those', async () => {
    const doc = await document();
    expect(operations(doc)).toEqual(served().filter((route) => !PAGE.includes(route)));
    // The page is the rest, and nothing of it is documented as API.
    expect(served().filter((route) => PAGE.includes(route))).toEqual([...PAGE].sort());
  });

  it('gives each documented route its responses: a described body for each status, the errors as problems', async () => {
    const doc = await document();
    for (const name of operations(doc)) {
      const { responses, parameters = [], requestBody, security } = operation(doc, name);
      const statuses = Object.keys(responses);
      expect(
        statuses.some((s) => s.startsWith('2')),
        name,
      ).toBe(true);
      for (const [status, response] of Object.entries(responses)) {
        expect(response.description, `${name} ${status}`).toBeTruthy();
        // 204 No Content has no body to describe.
        if (status !== '204')
          expect(Object.keys(response.content ?? {}).length, `${name} ${status}`).toBeGreaterThan(0);
        if (Number(status) >= 400) {
          const types = Object.keys(response.content ?? {});
          // /healthz answers 503 with its own small body; every other error is a problem.
          if (name !== 'GET /healthz')
            expect(types, `${name} ${status}`).toEqual(['application/problem+json']);
        }
      }
      // Refused without the token unless public; an unknown job is a 404; what is validated can be a 400.
      expect(statuses.includes('401'), name).toBe(security === undefined);
      if (name.includes('{id}')) {
        expect(
          parameters.some((p) => p.name === 'id' && p.in === 'path'),
          name,
        ).toBe(true);
        expect(statuses, name).toContain('404');
      }
      if (requestBody || parameters.some((p) => p.in === 'query')) expect(statuses, name).toContain('400');
    }
  });
});

// --- The web page and the files it loads (api/public), served beside the API without a token.

/** The page, and the modules and style sheets it loads (not its type-checking files: *.d.ts, tsconfig.json). */
const FILES = readdirSync(PUBLIC_DIR, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && !e.name.startsWith('.') && /(^index\.html|\.js|\.css)$/.test(e.name))
  .map((e) => path.relative(PUBLIC_DIR, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
const TYPES: Record<string, RegExp> = {
  '.html': /^text\/html; charset=utf-8$/,
  '.js': /^text\/javascript; charset=utf-8$/,
  '.css': /^text\/css; charset=utf-8$/,
};

describe('GET /settings', () => {
  it('says whether jobs will be coded by the simulator, and nothing when no worker runs here', async () => {
    const settings = async (app: App) =>
      ((await (await app.request('/settings')).json()) as { simulated: unknown }).simulated;
    expect(await settings(api.makeApp({ simulated: true }))).toBe(true);
    expect(await settings(api.makeApp({ simulated: false }))).toBe(false);
    expect(await settings(api.app)).toBeNull();
  });
});

describe('the web page', () => {
  it.each(FILES)('serves %s, public, with its type and no-cache', async (file) => {
    const pathname = file === 'index.html' ? '/' : `/${file}`;
    for (const app of [api.app, locked]) {
      const response = await app.request(pathname);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(TYPES[path.extname(file)] ?? /^$/);
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(Buffer.from(await response.arrayBuffer())).toEqual(readFileSync(path.join(PUBLIC_DIR, file)));
    }
  });

  it('reads nothing outside api/public, however the path climbs', async () => {
    const outside = [
      '/../package.json',
      '/..%2fpackage.json',
      '/%2e%2e/package.json',
      '/%2e%2e%2fpackage.json',
      '/..%5cpackage.json',
      '/js/main.js/../../../package.json',
      '/style.css/..%2f..%2fapp.ts',
      '/js/..%2f..%2fapp.ts',
      '/./../api/app.ts',
      '//etc/passwd',
      '/%2fetc%2fpasswd',
      '/api/public/index.html',
      '/public/js/main.js',
      '/index.html',
      '/tsconfig.json',
      '/js/types.d.ts',
      '/js/main.js%00.txt',
    ];
    for (const pathname of outside) {
      const response = await api.app.request(pathname);
      expect(response.status, pathname).toBe(404);
      expect(response.headers.get('content-type'), pathname).toMatch(/^application\/problem\+json/);
      const locked401 = await locked.request(pathname);
      expect(locked401.status, pathname).toBe(401);
    }
  });
});

// --- Jobs as the list shows them.

const { WorkflowExecutionStatus } = temporal.api.enums.v1;

/** A search attribute as visibility sends it: JSON, with its type in the metadata. */
function attribute(type: string, value: unknown): object {
  return {
    metadata: { encoding: Buffer.from('json/plain'), type: Buffer.from(type) },
    data: Buffer.from(JSON.stringify(value)),
  };
}

/**
 * The Temporal job service on a client whose server answers every list with `executions`: the SDK decodes
 * them as it decodes a real server's page. The dev server (CLI 1.5.1, server 1.29.1) answers
 * PauseWorkflowExecution with UNIMPLEMENTED, so a paused workflow can only be listed this way.
 */
function serviceListing(executions: object[]) {
  const page = temporal.api.workflowservice.v1.ListWorkflowExecutionsResponse.fromObject({ executions });
  const connection = {
    workflowService: { listWorkflowExecutions: () => Promise.resolve(page) },
    plugins: [],
  } as unknown as ConnectionLike;
  return createJobService({
    client: new Client({ connection }),
    store: new JobStore(os.tmpdir()),
    taskQueue: 'verbatim',
    searchAttributes: true,
    inspect: inspectColumn,
  });
}

const timestamp = (d: Date) => ({
  seconds: Math.floor(d.getTime() / 1000),
  nanos: (d.getTime() % 1000) * 1e6,
});

// --- A new job's coding mode, as the form sends it.

describe('POST /jobs: one category per answer or several', () => {
  const NETTED = ['[Money]', 'Price: cheap, expensive', '[Service]', 'Delivery', 'Staff'].join('\n');
  // Its own service: the jobs started here stay out of the other tests' lists.
  let api: FakeApi;
  beforeAll(async () => {
    api = await createFakeApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  async function started(fields: Record<string, string>): Promise<JobSpec> {
    // Each start codes anew: two of them send the same settings (multi false, and absent).
    const response = await api.request('/jobs', post(exampleJob({ force: 'true', ...fields })));
    expect(response.status, await response.clone().text()).toBe(202);
    const { jobId } = (await response.json()) as { jobId: string };
    return api.store.readJson<JobSpec>(jobId, 'job.json');
  }

  it('passes multi and maxCodes to the job, and reads a codeframe starting with a [Net] line as text', async () => {
    const spec = await started({ multi: 'true', maxCodes: '3', categories: NETTED });
    expect(spec.options).toMatchObject({ multi: true, maxCodes: 3 });
    expect(spec.categories.map((c) => [c.name, c.net])).toEqual([
      ['Price', 'Money'],
      ['Delivery', 'Service'],
      ['Staff', 'Service'],
    ]);
  });

  it('codes one category per answer when multi is false or absent (the test defaults)', async () => {
    expect((await started({ multi: 'false' })).options.multi).toBe(false);
    expect((await started({})).options.multi ?? false).toBe(false);
  });

  it('sends the job through the Batch API with batchApi=true, else as the server says (OPENAI_BATCH_API)', async () => {
    expect((await started({ batchApi: 'true' })).options.batchApi).toBe(true);
    expect((await started({ batchApi: 'off' })).options.batchApi).toBe(false);
    expect((await started({})).options.batchApi ?? false).toBe(false);
    const refused = await api.request('/jobs', post(exampleJob({ batchApi: 'later' })));
    expect(refused.status).toBe(400);
    expect(
      ((await refused.json()) as { errors?: Array<{ field: string }> }).errors?.map((e) => e.field),
    ).toContain('batchApi');
    const settings = (await (await api.request('/settings')).json()) as { defaults: { batchApi: boolean } };
    expect(settings.defaults.batchApi).toBe(false);
  });

  it('still reads categories given as a JSON list of names', async () => {
    const spec = await started({ categories: JSON.stringify(['Price', 'Delivery']) });
    expect(spec.categories.map((c) => c.name)).toEqual(['Price', 'Delivery']);
  });

  it('tells the page the server default and limit of both (GET /settings)', async () => {
    const settings = (await (await api.request('/settings')).json()) as {
      defaults: { multi: boolean; maxCodes: number };
      limits: { maxCodes: number };
    };
    expect(settings.defaults).toMatchObject({ multi: false, maxCodes: DEFAULT_MAX_CODES });
    expect(settings.limits.maxCodes).toBe(MAX_CODES_LIMIT);
  });
});

describe('a job listed from visibility', () => {
  it('lists a workflow paused in Temporal as PAUSED and not ended (it was UNKNOWN)', async () => {
    const started = new Date('2026-01-02T03:04:05.678Z');
    const jobs = serviceListing([
      {
        execution: { workflowId: 'job-paused', runId: 'run-1' },
        type: { name: JOB_WORKFLOW_TYPE },
        startTime: timestamp(started),
        status: WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_PAUSED,
        historyLength: 12,
        taskQueue: 'verbatim',
        searchAttributes: {
          indexedFields: {
            VerbatimFileName: attribute('Keyword', 'survey.xlsx'),
            VerbatimPhase: attribute('Keyword', 'classifying'),
            VerbatimRows: attribute('Int', 120),
          },
        },
      },
    ]);
    expect(await jobs.list({ limit: 10 })).toEqual({
      jobs: [
        {
          jobId: 'job-paused',
          status: 'PAUSED',
          name: null,
          fileName: 'survey.xlsx',
          column: null,
          phase: 'classifying',
          rows: 120,
          fallbacks: null,
          createdAt: started,
          closedAt: null,
        },
      ],
      next: undefined,
    });
  });
});

describe('a page of jobs', () => {
  const at = (ms: number, jobId: string): JobSummary => ({
    jobId,
    status: 'COMPLETED',
    name: null,
    fileName: null,
    column: null,
    phase: null,
    rows: null,
    fallbacks: null,
    createdAt: new Date(ms),
    closedAt: null,
  });
  // Newest first; two jobs created in the same millisecond are ordered by id, larger first.
  const jobs = [at(5, 'job-e'), at(4, 'job-d'), at(4, 'job-c'), at(4, 'job-b'), at(1, 'job-a')];

  it('cuts the list after the cursor, every job once', () => {
    const seen: string[] = [];
    let after: JobCursor | undefined;
    do {
      const page = pageOfJobs(jobs, { limit: 2, after });
      expect(page.jobs.length).toBeLessThanOrEqual(2);
      seen.push(...page.jobs.map((j) => j.jobId));
      after = page.next;
    } while (after);
    expect(seen).toEqual(['job-e', 'job-d', 'job-c', 'job-b', 'job-a']);
  });

  it('has no next page when the last job is on this one', () => {
    expect(pageOfJobs(jobs, { limit: 5 }).next).toBeUndefined();
    expect(pageOfJobs(jobs, { limit: 4 }).next).toEqual({ createdAt: new Date(4), jobId: 'job-b' });
  });
});

describe('a job paused in Temporal, through the API', () => {
  it('is listed as PAUSED and not ended, and its event stream goes on until the job ends', async () => {
    const createdAt = new Date('2026-01-02T03:04:05.678Z');
    api.jobs.put({ jobId: 'job-paused', status: 'PAUSED', createdAt, progress: progressOf('job-paused') });
    const list = (await (await api.request('/jobs')).json()) as { jobs: unknown[] };
    expect(list.jobs).toEqual([
      expect.objectContaining({ jobId: 'job-paused', status: 'PAUSED', closedAt: null }),
    ]);

    const response = await api.request('/jobs/job-paused/events');
    const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
    if (!reader) throw new Error('no body');
    let text = '';
    // Several progress events while it is paused: a PAUSED job is not done.
    while ((text.match(/event: progress/g) ?? []).length < 3) text += (await reader.read()).value ?? '';
    expect(text).not.toContain('event: done');
    api.jobs.put({ jobId: 'job-paused', status: 'COMPLETED', closedAt: new Date() });
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += chunk.value;
    expect(text).toMatch(/event: done\ndata: \{"jobId":"job-paused","status":"COMPLETED"/);
  });
});
