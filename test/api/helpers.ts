import { estimateJob } from '../../activities/plan-job.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { inspectColumn, previewSheets } from '../../sheets/index.js';
import type { App } from '../../api/app.js';
import { createApp } from '../../api/app.js';
import type { AppDeps } from '../../api/deps.js';
import type { TemporalJobService } from '../../jobs/service.js';
import type { JobOptions } from '../../domain/job.js';
import { JobStore } from '../../lib/store.js';
import type { SimulatorOptions } from '../../simulator/index.js';
import type { CodeframeService } from '../../jobs/codeframes.js';
import { createCodeframeService } from '../../jobs/codeframes.js';
import type { FakeCodeframes } from '../helpers/fake-codeframes.js';
import { createFakeCodeframes } from '../helpers/fake-codeframes.js';
import type { FakeJobService } from '../helpers/fake-jobs.js';
import { createFakeJobService } from '../helpers/fake-jobs.js';
import type { Harness, TestWorkers } from '../helpers/harness.js';
import { testOptions } from '../helpers/options.js';
import { CATEGORIES, makeAnswers, writeSurvey } from '../helpers/survey.js';

/** The example survey: 400 answers in column `E2` of sheet `Responses`, title and question rows above. */
export const EXAMPLE = readFileSync(new URL('../../examples/customer-survey.xlsx', import.meta.url));
export const EXAMPLE_CATEGORIES = readFileSync(
  new URL('../../examples/categories.txt', import.meta.url),
  'utf8',
);
/** Data rows of the example: the header is row 3, answers are rows 4–403. */
export const EXAMPLE_ROWS = { first: 4, last: 403 } as const;

/** The test fixtures' categories as the form's text field: one per line, `Name: description`. */
export const CATEGORIES_TEXT = CATEGORIES.map((c) => `${c.name}: ${c.description ?? ''}`).join('\n');

type AppOverrides = Partial<Omit<AppDeps, 'dataDir' | 'sse'>>;

/** The real app on a real dev server: workers on a queue of their own, the simulator over HTTP. */
export interface ApiHarness {
  readonly h: Harness;
  readonly app: App;
  /** The task queue jobs start on; workers poll it unless the harness was made without them. */
  readonly taskQueue: string;
  readonly workers: TestWorkers | undefined;
  readonly jobs: TemporalJobService;
  readonly codeframes: CodeframeService;
  readonly sse: { open: number };
  request(pathname: string, init?: RequestInit): Promise<Response>;
  /** Another app on the same server, workers and store, with some dependencies replaced. */
  makeApp(overrides: AppOverrides): App;
  close(): Promise<void>;
}

export async function createApiHarness(
  options: {
    sim?: SimulatorOptions;
    /** False: no workers (and no workflow bundle to build), for routes that never need a job to run. */
    workers?: boolean;
    slots?: number;
    defaults?: Partial<JobOptions>;
    app?: AppOverrides;
  } = {},
): Promise<ApiHarness> {
  // Loaded here: test files on the in-memory service never load Temporal's worker and test server.
  const [{ createHarness }, { uniqueTaskQueue }] = await Promise.all([
    import('../helpers/harness.js'),
    import('../helpers/temporal.js'),
  ]);
  const h = await createHarness(options.sim ?? { latency: { meanMs: 5, jitterMs: 3 } });
  try {
    const workers =
      options.workers === false ? undefined : await h.startWorkers({ slots: options.slots ?? 5 });
    const taskQueue = workers?.taskQueue ?? uniqueTaskQueue('no-workers');
    const jobs = h.jobs(taskQueue);
    const codeframes = createCodeframeService({
      client: h.env.client,
      store: h.store,
      taskQueue,
      searchAttributes: true,
      inspect: inspectColumn,
    });
    const sse = { open: 0 };
    const makeApp = (overrides: AppOverrides) =>
      createApp(
        appDeps({
          jobs,
          codeframes,
          dataDir: h.dataDir,
          sse,
          defaults: testOptions(options.defaults),
          ...options.app,
          ...overrides,
        }),
      );
    const app = makeApp({});
    return {
      h,
      app,
      taskQueue,
      workers,
      jobs,
      codeframes,
      sse,
      request: async (pathname, init) => app.request(pathname, init),
      makeApp,
      close: () => h.close(),
    };
  } catch (error) {
    await h.close();
    throw error;
  }
}

/** The app's dependencies as the tests use them: test options, a 5 MiB upload limit, quick progress. */
function appDeps(deps: AppOverrides & Pick<AppDeps, 'jobs' | 'codeframes' | 'dataDir' | 'sse'>): AppDeps {
  return {
    namespace: 'default',
    defaults: testOptions(),
    preview: previewSheets,
    estimate: estimateJob,
    maxUploadBytes: 5 * 2 ** 20,
    progressIntervalMs: 50,
    ...deps,
  };
}

/** The app on an in-memory job service: no Temporal server, no worker, for routes that need no workflow. */
export interface FakeApi {
  readonly app: App;
  readonly jobs: FakeJobService;
  readonly codeframes: FakeCodeframes;
  /** Uploads of started jobs and previews go here, as with the real service. */
  readonly dataDir: string;
  readonly store: JobStore;
  readonly sse: { open: number };
  request(pathname: string, init?: RequestInit): Promise<Response>;
  /** Another app on the same service and folder, with some dependencies replaced. */
  makeApp(overrides: AppOverrides): App;
  close(): Promise<void>;
}

export async function createFakeApi(options: { app?: AppOverrides } = {}): Promise<FakeApi> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'verbatim-api-'));
  const store = new JobStore(dataDir);
  const jobs = createFakeJobService({ store, inspect: inspectColumn });
  const codeframes = createFakeCodeframes({ store, inspect: inspectColumn });
  const sse = { open: 0 };
  const makeApp = (overrides: AppOverrides) =>
    createApp(appDeps({ jobs, codeframes, dataDir, sse, ...options.app, ...overrides }));
  const app = makeApp({});
  return {
    app,
    jobs,
    codeframes,
    dataDir,
    store,
    sse,
    request: async (pathname, init) => app.request(pathname, init),
    makeApp,
    close: () => fs.rm(dataDir, { recursive: true, force: true }),
  };
}

export interface Upload {
  readonly bytes: Uint8Array;
  readonly name: string;
}

/** A multipart body as a browser sends it: the file, then text fields (an array repeats the field). */
export function jobForm(
  file: Upload | undefined,
  fields: Record<string, string | readonly string[] | undefined> = {},
): FormData {
  const form = new FormData();
  if (file) form.append('file', new File([file.bytes], file.name));
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    for (const v of typeof value === 'string' ? [value] : value) form.append(key, v);
  }
  return form;
}

export function post(form: FormData, headers: Record<string, string> = {}): RequestInit {
  return { method: 'POST', body: form, headers };
}

/** The example survey with the example categories, optionally with more fields. */
export function exampleJob(fields: Record<string, string | readonly string[] | undefined> = {}): FormData {
  return jobForm(
    { bytes: EXAMPLE, name: 'customer-survey.xlsx' },
    { column: 'E2', categories: EXAMPLE_CATEGORIES, ...fields },
  );
}

/**
 * A generated survey (test/helpers/survey.ts: sheet `Data`, answers under header `E2` from row 3, category
 * column G), with the fixtures' categories. Distinct answers, so `count / 10` batches at the default size.
 */
export async function smallSurvey(
  api: ApiHarness,
  count: number,
  name = `survey-${count}.xlsx`,
): Promise<{ upload: Upload; answers: Array<string | null>; rows: number[] }> {
  const file = path.join(api.h.dataDir, `fixture-${count}.xlsx`);
  const answers = makeAnswers(count);
  const { rows } = await writeSurvey(file, answers);
  return { upload: { bytes: await fs.readFile(file), name }, answers, rows };
}

/** A job form for a generated survey. */
export function surveyJob(
  upload: Upload,
  fields: Record<string, string | readonly string[] | undefined> = {},
): FormData {
  return jobForm(upload, { column: 'E2', categories: CATEGORIES_TEXT, ...fields });
}

export interface Started {
  readonly jobId: string;
  readonly status: string;
  readonly links: Record<string, string>;
}

/**
 * Starts a job and expects it to start (202). Tests start the same example many times: each start codes
 * anew (`force`) unless the form says otherwise; jobs.test.ts checks what an identical start answers.
 */
export async function startJob(api: ApiHarness, form: FormData): Promise<Started> {
  if (!form.has('force')) form.append('force', 'true');
  const response = await api.request('/jobs', post(form));
  const body = (await response.json()) as Started;
  if (response.status !== 202) throw new Error(`POST /jobs: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** The job view of `GET /jobs/:id`. */
export interface JobView {
  readonly jobId: string;
  readonly status: string;
  readonly fileName: string;
  readonly createdAt: string;
  readonly closedAt: string | null;
  readonly progress: {
    readonly phase: string;
    readonly paused: boolean;
    readonly rows: { readonly total: number; readonly done: number; readonly classified: number };
    readonly batches: { readonly total: number; readonly done: number; readonly inFlight: number };
    readonly window: { readonly size: number; readonly max: number };
  } | null;
  readonly stats: { readonly apiCalls: number; readonly totalSeconds: number } | null;
  readonly error?: string;
  readonly links: Record<string, string>;
}

export async function getJob(api: Pick<ApiHarness, 'request'>, jobId: string): Promise<JobView> {
  const response = await api.request(`/jobs/${jobId}`);
  if (response.status !== 200)
    throw new Error(`GET /jobs/${jobId}: ${response.status} ${await response.text()}`);
  return (await response.json()) as JobView;
}

/** Polls `GET /jobs/:id` until `done` says so. */
export async function waitForJob(
  api: Pick<ApiHarness, 'request'>,
  jobId: string,
  done: (job: JobView) => boolean = (job) => job.status !== 'RUNNING',
  timeoutMs = 30_000,
): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await getJob(api, jobId);
    if (done(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} timed out: ${JSON.stringify(job)}`);
    await sleep(25);
  }
}

export { sleep };

/** Every file under `dir`, relative to it (an empty list when it does not exist). */
export async function filesUnder(dir: string): Promise<string[]> {
  try {
    const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile())
      .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

export function patch(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method: 'PATCH',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  };
}

/** The workbook a result route answered with. */
export async function workbookOf(response: Response): Promise<ExcelJS.Workbook> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(await response.arrayBuffer());
  return workbook;
}

/** A generated survey whose answers carry the simulator's known themes (sheet `Data`, answers under `E2`). */
export async function themedSurvey(
  api: ApiHarness,
  count: number,
  name = `themes-${count}.xlsx`,
): Promise<{ upload: Upload; answers: string[] }> {
  const [{ generateThemedAnswers }, { surveyAnswers }] = await Promise.all([
    import('../../simulator/themes.js'),
    import('../helpers/codeframes.js'),
  ]);
  const file = path.join(api.h.dataDir, `fixture-${name}`);
  const answers = surveyAnswers(generateThemedAnswers(count, 11));
  await writeSurvey(file, answers);
  return { upload: { bytes: await fs.readFile(file), name }, answers };
}

/** The draft view of `GET /codeframes/:id`. */
export interface DraftView {
  readonly codeframeId: string;
  readonly status: string;
  readonly progress: { readonly phase: string; readonly chunks: { readonly done: number } } | null;
  readonly codeframe: {
    readonly codes: ReadonlyArray<{ label: string; net?: string; share: number; examples: string[] }>;
    readonly coverage: number;
  } | null;
  readonly error?: string;
}

/** Polls `GET /codeframes/:id` until the draft has ended, keeping each phase seen on the way. */
export async function waitForDraft(
  api: Pick<ApiHarness, 'request'>,
  id: string,
  timeoutMs = 60_000,
): Promise<{ view: DraftView; phases: string[] }> {
  const deadline = Date.now() + timeoutMs;
  const phases: string[] = [];
  for (;;) {
    const response = await api.request(`/codeframes/${id}`);
    if (response.status !== 200) throw new Error(`GET /codeframes/${id}: ${response.status}`);
    const view = (await response.json()) as DraftView;
    const phase = view.progress?.phase;
    if (phase && phases.at(-1) !== phase) phases.push(phase);
    if (view.status !== 'RUNNING') return { view, phases };
    if (Date.now() > deadline) throw new Error(`draft ${id} timed out: ${JSON.stringify(view)}`);
    await sleep(25);
  }
}
