import { CodeframeNotFoundError } from '../../domain/errors.js';
import type { CodeframeProgress } from '../../domain/codeframe-job.js';
import type {
  CodeframeDescription,
  CodeframeDownload,
  CodeframeDrafts,
  CodeframeFileKind,
  CreateCodeframeRequest,
} from '../../jobs/codeframes.js';
import { storeCodeframe } from '../../jobs/codeframes.js';
import type { JobServiceDeps } from '../../jobs/service.js';

/**
 * Codeframe drafts in memory, for API tests that need no workflow: `create` stores and checks the upload as
 * the real service does (`storeCodeframe`), then records a running draft with what it was asked; the rest
 * reads and changes records the test sets with `put`.
 */
export interface FakeCodeframes extends CodeframeDrafts {
  /** What each `create` was asked, in order (the upload's bytes left out). */
  readonly requests: ReadonlyArray<Omit<CreateCodeframeRequest, 'source'> & { codeframeId: string }>;
  /** The ids `cancel` was called with, in order. */
  readonly cancelled: readonly string[];
  put(draft: Partial<CodeframeDescription> & Pick<CodeframeDescription, 'codeframeId'>): CodeframeDescription;
  putFile(codeframeId: string, kind: CodeframeFileKind, file: CodeframeDownload): void;
}

export function createFakeCodeframes(deps: Pick<JobServiceDeps, 'store' | 'inspect'>): FakeCodeframes {
  const drafts = new Map<string, CodeframeDescription>();
  const files = new Map<string, Partial<Record<CodeframeFileKind, CodeframeDownload>>>();
  const requests: Array<Omit<CreateCodeframeRequest, 'source'> & { codeframeId: string }> = [];
  const cancelled: string[] = [];

  function find(id: string): CodeframeDescription {
    const draft = drafts.get(id);
    if (!draft) throw new CodeframeNotFoundError(id);
    return draft;
  }

  function put(draft: Partial<CodeframeDescription> & Pick<CodeframeDescription, 'codeframeId'>) {
    const stored: CodeframeDescription = {
      status: 'RUNNING',
      fileName: undefined,
      column: undefined,
      createdAt: new Date(),
      closedAt: null,
      progress: null,
      codeframe: null,
      ...drafts.get(draft.codeframeId),
      ...draft,
    };
    drafts.set(draft.codeframeId, stored);
    return stored;
  }

  return {
    requests,
    cancelled,
    put,
    putFile(id, kind, file) {
      files.set(id, { ...files.get(id), [kind]: file });
    },
    async create(request) {
      const { codeframeId, spec } = await storeCodeframe(deps, request);
      const { source: _source, ...asked } = request;
      requests.push({ ...asked, codeframeId });
      put({ codeframeId, fileName: spec.fileName, column: spec.column });
      return { codeframeId, state: 'started' };
    },
    status: (id) => settle(() => find(id).status),
    describe: (id) => settle(() => find(id)),
    download: (id, kind) => settle(() => (find(id), files.get(id)?.[kind])),
    cancel: (id) =>
      settle(() => {
        find(id);
        cancelled.push(id);
        put({ codeframeId: id, status: 'CANCELLED', closedAt: new Date() });
      }),
  };
}

function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** A draft's progress as a worker would answer it: extracting, nothing done yet, unless said otherwise. */
export function codeframeProgressOf(
  codeframeId: string,
  overrides: Partial<CodeframeProgress> = {},
): CodeframeProgress {
  const now = new Date().toISOString();
  return {
    codeframeId,
    phase: 'extracting',
    simulated: true,
    fileName: 'survey.xlsx',
    column: 'E2',
    answers: { rows: 0, unique: 0, chosen: 0, sampled: false },
    chunks: { total: 0, done: 0, failed: 0, inFlight: 0 },
    themes: 0,
    merge: { round: 0, calls: 0, failed: 0 },
    measure: { batches: 0, done: 0, failed: 0, sample: 0 },
    apiCalls: 0,
    calls: { extract: 0, merge: 0, measure: 0 },
    rateLimited: 0,
    tokens: { prompt: 0, completion: 0, cached: 0, total: 0 },
    window: { size: 5, max: 5 },
    elapsedSeconds: 0,
    startedAt: now,
    updatedAt: now,
    ...overrides,
  };
}
