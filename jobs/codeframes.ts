/**
 * The codeframe part of the job service: start a draft from a file (or find it started or done), follow
 * it, fetch its files. The CLI's `verbatim codeframe` uses it, and so can the API (`POST /codeframes`).
 */
import fs from 'node:fs/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { CodeframeReport } from '../domain/codeframe-file.js';
import type { CodeframeProgress, CodeframeSettings, CodeframeSpec } from '../domain/codeframe-job.js';
import { codeframeSettings } from '../domain/codeframe-job.js';
import { CodeframeNotFoundError, JobNotFoundError } from '../domain/errors.js';
import type { JobOptions } from '../domain/job.js';
import { buildCodeframeWorkflow } from '../workflows/build-codeframe.js';
import type { BuildCodeframeInput, BuildCodeframeResult } from '../workflows/codeframe-definitions.js';
import { CODEFRAME_ID_PREFIX, codeframeProgressQuery } from '../workflows/codeframe-definitions.js';
import type { JobStore } from '../lib/store.js';
import type { JobServiceDeps, JobStatus } from './service.js';
import { failureMessage, storeUpload } from './service.js';
import type { FileSource } from './ids.js';
import { contentId, randomId, workflowStatus } from './ids.js';

export interface CreateCodeframeRequest {
  readonly fileName: string;
  /** A file on disk (CLI) or uploaded bytes (API). */
  readonly source: FileSource;
  readonly column: string;
  readonly sheet?: string;
  /** The survey question, when the header does not say it. */
  readonly question?: string;
  /** Over the defaults (max-codes 25, min-share 1 %, read cap 2,000, measure sample 400, …); checked. */
  readonly settings?: Partial<CodeframeSettings>;
  /** Model, temperature, window, retries: a coding job's options. */
  readonly options: JobOptions;
  /**
   * `content`: the id follows from the file and the settings, so the same command resumes the same draft
   * (CLI). `random`: a fresh unguessable id (API uploads).
   */
  readonly idFrom: 'content' | 'random';
  /** Who answers (`simulator`, `openai` or a base URL): a dry run and a real run are different drafts. */
  readonly answeredBy?: string;
}

export type CodeframeHandle = WorkflowHandle<typeof buildCodeframeWorkflow>;

/** The draft workflow's type name, for visibility queries (`WorkflowType = '…'`). */
export const CODEFRAME_WORKFLOW_TYPE = buildCodeframeWorkflow.name;

/** A draft started (or found) through the narrow interface the API uses. */
export interface CreatedCodeframe {
  readonly codeframeId: string;
  /** `started`: a new run; `running`: already running (resumed); `completed`: done before. */
  readonly state: 'started' | 'running' | 'completed';
}

export interface StartedCodeframe extends CreatedCodeframe {
  readonly handle: CodeframeHandle;
}

/** The draft's files in its folder: categories.txt, categories.xlsx. */
export type CodeframeFileKind = 'txt' | 'xlsx';

/** Everything known about a draft: its status, live progress, and the written codeframe once done. */
export interface CodeframeDescription {
  readonly codeframeId: string;
  readonly status: JobStatus;
  readonly fileName: string | undefined;
  readonly column: string | undefined;
  readonly createdAt: Date;
  readonly closedAt: Date | null;
  readonly progress: CodeframeProgress | null;
  /** The written draft with its examples (COMPLETED only). */
  readonly codeframe: CodeframeReport | null;
  /** Why the draft failed (FAILED only). */
  readonly error?: string;
}

export interface CodeframeDownload {
  /** The uploaded file's name, for the download's name. */
  readonly fileName: string;
  readonly bytes: Uint8Array<ArrayBuffer>;
}

/**
 * What the API does with drafts: a narrow interface, so API tests that need no workflow use an in-memory
 * one (test/helpers/fake-codeframes.ts). Unknown ids are `CodeframeNotFoundError`.
 */
export interface CodeframeDrafts {
  create(request: CreateCodeframeRequest): Promise<CreatedCodeframe>;
  status(codeframeId: string): Promise<JobStatus>;
  describe(codeframeId: string): Promise<CodeframeDescription>;
  /** A completed draft's file; undefined when it has none. */
  download(codeframeId: string, kind: CodeframeFileKind): Promise<CodeframeDownload | undefined>;
  cancel(codeframeId: string): Promise<void>;
}

const REPORT = 'codeframe-report.json';

/**
 * Writes the upload and the draft's spec to its folder after checking sheet and column: the part of
 * creating a draft that needs no Temporal (a refused upload leaves nothing).
 */
export async function storeCodeframe(
  deps: Pick<JobServiceDeps, 'store' | 'inspect'>,
  request: CreateCodeframeRequest,
): Promise<{ codeframeId: string; spec: CodeframeSpec }> {
  const { store } = deps;
  const settings = codeframeSettings(request.settings);
  // Measuring is single-label coding (each answer's one code gives the shares), whatever MULTI_CODE says.
  const { multi: _multi, maxCodes: _maxCodes, ...options } = request.options;
  const stored = await storeUpload(
    store,
    request,
    { content: (bytes) => contentCodeframeId(bytes, { ...request, settings }), random: randomCodeframeId },
    (upload) => deps.inspect({ ...upload, column: request.column }),
  );
  const { id: codeframeId, format, input } = stored;
  const spec: CodeframeSpec = {
    codeframeId,
    fileName: request.fileName,
    format,
    input,
    ...(request.sheet !== undefined ? { sheet: request.sheet } : {}),
    column: request.column,
    ...(request.question !== undefined ? { question: request.question } : {}),
    settings,
    options,
    createdAt: new Date().toISOString(),
  };
  const specFile = store.file(codeframeId, 'codeframe.json');
  // Written once: a resumed draft keeps the spec it started with; this request's window and retries still
  // go to the new run.
  if (!(await store.readJsonIfExists<CodeframeSpec>(specFile))) await store.writeJson(specFile, spec);
  return { codeframeId, spec };
}

/** A draft's written files, read from its folder; undefined until the draft is written. */
export async function readCodeframeDownload(
  store: JobStore,
  codeframeId: string,
  kind: CodeframeFileKind,
): Promise<CodeframeDownload | undefined> {
  const report = await store.readJsonIfExists<CodeframeReport>(store.file(codeframeId, REPORT));
  if (!report) return undefined;
  const bytes = await fs.readFile(store.file(codeframeId, report.files[kind]));
  return { fileName: report.fileName, bytes: new Uint8Array(bytes) };
}

export function createCodeframeService(deps: JobServiceDeps) {
  const { client, store } = deps;

  const handle = (codeframeId: string): CodeframeHandle => {
    store.dir(codeframeId); // validates the id
    return client.workflow.getHandle<typeof buildCodeframeWorkflow>(codeframeId);
  };

  /** The draft's workflow; CodeframeNotFoundError for an id no draft has (a job's included). */
  async function describeWorkflow(codeframeId: string) {
    try {
      const d = await handle(codeframeId).describe();
      if (d.type !== CODEFRAME_WORKFLOW_TYPE) throw new CodeframeNotFoundError(codeframeId);
      return d;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError || error instanceof JobNotFoundError)
        throw new CodeframeNotFoundError(codeframeId);
      throw error;
    }
  }

  return {
    /** Stores the file and the draft's spec, checks sheet and column, and starts (or finds) the workflow. */
    async create(request: CreateCodeframeRequest): Promise<StartedCodeframe> {
      const { codeframeId, spec } = await storeCodeframe(deps, request);
      const workflowInput: BuildCodeframeInput = {
        codeframeId,
        fileName: request.fileName,
        column: request.column,
        ...(request.sheet !== undefined ? { sheet: request.sheet } : {}),
        settings: spec.settings,
        options: spec.options,
        searchAttributes: deps.searchAttributes,
      };
      try {
        return await startOrFind(codeframeId, workflowInput, request);
      } catch (error) {
        const started = await workflowStatus(client, codeframeId).catch(() => undefined);
        if (request.idFrom === 'random' && !started) await store.remove(codeframeId).catch(() => undefined);
        throw error;
      }
    },

    handle,

    async status(codeframeId: string): Promise<JobStatus> {
      return (await describeWorkflow(codeframeId)).status.name;
    },

    async describe(codeframeId: string): Promise<CodeframeDescription> {
      const d = await describeWorkflow(codeframeId);
      const status = d.status.name;
      let progress: CodeframeProgress | undefined;
      let codeframe: CodeframeReport | undefined;
      let error: string | undefined;
      if (status === 'COMPLETED') {
        progress = (await handle(codeframeId).result()).progress;
        codeframe = await store.readJsonIfExists<CodeframeReport>(store.file(codeframeId, REPORT));
      } else {
        progress = await handle(codeframeId)
          .query(codeframeProgressQuery)
          .catch(() => undefined);
        if (status === 'FAILED') error = await failureMessage(handle(codeframeId));
      }
      const memo = (name: string) => (typeof d.memo?.[name] === 'string' ? d.memo[name] : undefined);
      return {
        codeframeId,
        status,
        fileName: memo('fileName') ?? progress?.fileName,
        column: memo('column') ?? progress?.column,
        createdAt: d.startTime,
        closedAt: d.closeTime ?? null,
        progress: progress ?? null,
        codeframe: codeframe ?? null,
        ...(error ? { error } : {}),
      };
    },

    async download(codeframeId: string, kind: CodeframeFileKind): Promise<CodeframeDownload | undefined> {
      return readCodeframeDownload(store, codeframeId, kind);
    },

    /** The live progress (phase, chunks, themes, calls, tokens); a worker must be running to answer. */
    async progress(codeframeId: string): Promise<CodeframeProgress> {
      try {
        return await handle(codeframeId).query(codeframeProgressQuery);
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) throw new CodeframeNotFoundError(codeframeId);
        throw error;
      }
    },

    /** Waits for the draft and returns its summary (codes, shares, coverage, folded codes). */
    async result(codeframeId: string): Promise<BuildCodeframeResult> {
      return await handle(codeframeId).result();
    },

    /** The written draft with up to three example answers per code; JobNotFoundError until it is written. */
    async report(codeframeId: string): Promise<CodeframeReport> {
      return await store.readJson<CodeframeReport>(codeframeId, REPORT);
    },

    /** The path of a written file (to send or copy); JobNotFoundError until the draft is written. */
    async file(codeframeId: string, kind: CodeframeFileKind): Promise<string> {
      const report = await this.report(codeframeId);
      return store.file(codeframeId, report.files[kind]);
    },

    /** Asks the draft to stop; what its steps stored stays, so starting it again resumes. */
    async cancel(codeframeId: string): Promise<void> {
      try {
        await handle(codeframeId).cancel();
      } catch (error) {
        if (error instanceof WorkflowNotFoundError || error instanceof JobNotFoundError)
          throw new CodeframeNotFoundError(codeframeId);
        throw error;
      }
    },
  };

  async function startOrFind(
    codeframeId: string,
    workflowInput: BuildCodeframeInput,
    request: CreateCodeframeRequest,
  ): Promise<StartedCodeframe> {
    const status = await workflowStatus(client, codeframeId);
    if (status === 'RUNNING') return { codeframeId, handle: handle(codeframeId), state: 'running' };
    if (status === 'COMPLETED') return { codeframeId, handle: handle(codeframeId), state: 'completed' };
    try {
      const started = await client.workflow.start(buildCodeframeWorkflow, {
        workflowId: codeframeId,
        taskQueue: deps.taskQueue,
        args: [workflowInput],
        memo: { fileName: request.fileName, column: request.column },
        staticSummary: `Codeframe from ${request.fileName} · column ${request.column}${request.sheet ? ` · sheet ${request.sheet}` : ''}`,
        // Failed or cancelled before: a new run picks up the steps already stored.
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      return { codeframeId, handle: started, state: 'started' };
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError)
        return { codeframeId, handle: handle(codeframeId), state: 'completed' };
      throw error;
    }
  }
}

export type CodeframeService = ReturnType<typeof createCodeframeService>;

/**
 * The same file with the same column, settings and model gives the same id, so running the same command
 * again resumes the same draft; the window and retry settings are left out.
 */
export function contentCodeframeId(
  bytes: Uint8Array,
  r: Pick<CreateCodeframeRequest, 'column' | 'sheet' | 'question' | 'options' | 'answeredBy'> & {
    settings: CodeframeSettings;
  },
): string {
  return contentId(CODEFRAME_ID_PREFIX, bytes, {
    column: r.column,
    sheet: r.sheet ?? null,
    question: r.question ?? null,
    settings: r.settings,
    model: r.options.model,
    temperature: r.options.temperature,
    ...(r.answeredBy && r.answeredBy !== 'openai' ? { answeredBy: r.answeredBy } : {}),
  });
}

export function randomCodeframeId(): string {
  return randomId(CODEFRAME_ID_PREFIX);
}
