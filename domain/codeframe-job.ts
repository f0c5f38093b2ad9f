/**
 * A codeframe draft as a job: its settings, what reading the column found, its counters and its live
 * progress. Small enough for workflow history; the answers and themes live in the job store.
 */
import { InvalidSettingError } from './errors.js';
import type { JobOptions, RowCounts, TokenUsage } from './job.js';
import type { SheetFormat } from './sheet-format.js';
import type { SheetWarning } from './sheet-warnings.js';

export interface CodeframeSettings {
  /** At most this many codes in the draft (besides Other). */
  readonly maxCodes: number;
  /** Codes whose estimated share of answers is below this fraction fold into Other. */
  readonly minShare: number;
  /** Unique answers read for themes: all of them up to this many, else a sample weighted by frequency. */
  readonly readCap: number;
  /**
   * Tokens of the answers read for themes (each answer's text and framing in its request): long answers
   * would otherwise take a request for a few dozen of them, and the extraction requests grow with them.
   * The chunks are at most this over what one chunk holds, whatever the answers' length.
   */
  readonly readTokens: number;
  /** Answers (rows) drawn to measure the draft's shares and coverage. */
  readonly measureSample: number;
  /** Answers per coding request when measuring. */
  readonly measureBatchSize: number;
  /** Estimated tokens of one theme-extraction request (answers, instructions and output ceiling). */
  readonly chunkTokens: number;
  /** At most this many answers in one extraction request, however short they are. */
  readonly chunkMaxAnswers: number;
  /** Themes one extraction request may return. */
  readonly maxThemesPerChunk: number;
  /** Themes one merge request is given. */
  readonly maxThemesPerMerge: number;
  /** Seeds the sampling and the chunking: the same seed reads the same answers. */
  readonly seed: number;
}

export const DEFAULT_CODEFRAME_SETTINGS: CodeframeSettings = {
  maxCodes: 25,
  minShare: 0.01,
  readCap: 2_000,
  readTokens: 200_000,
  measureSample: 400,
  measureBatchSize: 50,
  chunkTokens: 8_000,
  chunkMaxAnswers: 150,
  maxThemesPerChunk: 20,
  maxThemesPerMerge: 80,
  seed: 1,
};

/** Limits of each setting: [min, max, whole number]. The API's form checks them by these too. */
export const CODEFRAME_SETTING_LIMITS: Record<keyof CodeframeSettings, readonly [number, number, boolean]> = {
  maxCodes: [1, 100, true],
  minShare: [0, 0.5, false],
  readCap: [20, 20_000, true],
  readTokens: [10_000, 5_000_000, true],
  measureSample: [20, 10_000, true],
  measureBatchSize: [1, 200, true],
  chunkTokens: [1_000, 200_000, true],
  chunkMaxAnswers: [5, 500, true],
  maxThemesPerChunk: [3, 50, true],
  maxThemesPerMerge: [10, 300, true],
  seed: [0, 2 ** 31 - 1, true],
};

/** The CLI's and API's names of the settings, for errors. */
const NAMES: Record<keyof CodeframeSettings, string> = {
  maxCodes: 'max-codes',
  minShare: 'min-share',
  readCap: 'read-cap',
  readTokens: 'read-tokens',
  measureSample: 'measure-sample',
  measureBatchSize: 'measure-batch-size',
  chunkTokens: 'chunk-tokens',
  chunkMaxAnswers: 'chunk-max-answers',
  maxThemesPerChunk: 'max-themes-per-chunk',
  maxThemesPerMerge: 'max-themes-per-merge',
  seed: 'seed',
};

/** The defaults with `given` over them, each checked against its limits (errors name the setting). */
export function codeframeSettings(given: Partial<CodeframeSettings> = {}): CodeframeSettings {
  const settings = { ...DEFAULT_CODEFRAME_SETTINGS };
  for (const key of Object.keys(CODEFRAME_SETTING_LIMITS) as Array<keyof CodeframeSettings>) {
    const value = given[key];
    if (value === undefined) continue;
    const [min, max, whole] = CODEFRAME_SETTING_LIMITS[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      throw new InvalidSettingError(NAMES[key], value, `must be a number from ${min} to ${max}`);
    }
    if (whole && !Number.isInteger(value))
      throw new InvalidSettingError(NAMES[key], value, 'must be a whole number');
    settings[key] = value;
  }
  return settings;
}

/** A number typed on a command line or in a form: plain decimal text only (`0x10` and `1e3` are refused). */
export function parseSettingNumber(name: string, text: string): number {
  const trimmed = text.trim();
  if (!/^\d+(?:\.\d+)?$|^\.\d+$/.test(trimmed))
    throw new InvalidSettingError(name, text, 'must be a number, such as 25 or 0.01');
  return Number(trimmed);
}

/** The codeframe job as stored in its folder (codeframe.json). */
export interface CodeframeSpec {
  readonly codeframeId: string;
  readonly fileName: string;
  readonly format: SheetFormat;
  /** The stored copy's name inside the folder. */
  readonly input: string;
  readonly sheet?: string;
  readonly column: string;
  readonly question?: string;
  readonly settings: CodeframeSettings;
  readonly options: JobOptions;
  readonly createdAt: string;
}

/** What reading the column found and how the answers were cut: small, for workflow history. */
export interface CodeframePlan {
  readonly sheet: string;
  readonly header: string;
  readonly question: string;
  readonly rows: RowCounts;
  readonly uniqueAnswers: number;
  /** Unique answers read for themes. */
  readonly chosen: number;
  /** True when there were more unique answers than the cap, and `chosen` is a weighted sample. */
  readonly sampled: boolean;
  readonly chunks: number;
  /** Rows drawn for measuring. */
  readonly measureRows: number;
  /** Estimated tokens of the extraction requests. */
  readonly estimatedTokens: number;
  /** The worker had no API key: the simulator answers, and every view of the draft says so. */
  readonly simulated: boolean;
  /** What reading the file noticed (an encoding, formulas without a value, merged cells), by row. */
  readonly warnings?: readonly SheetWarning[];
}

export type CodeframePhase =
  | 'reading'
  | 'extracting'
  | 'merging'
  | 'describing'
  | 'measuring'
  | 'writing'
  | 'done'
  | 'cancelled'
  | 'failed';

/** What kind of request a call was, for the cost breakdown. */
export type CallKind = 'extract' | 'merge' | 'measure';

export interface CodeframeCounters {
  readonly chunksDone: number;
  readonly chunksFailed: number;
  /** Themes the extraction requests returned, before any merging. */
  readonly themesExtracted: number;
  readonly mergeCalls: number;
  readonly mergeFailed: number;
  readonly measureDone: number;
  readonly measureFailed: number;
  /** Requests sent, by kind (retries included). */
  readonly calls: Readonly<Record<CallKind, number>>;
  readonly rateLimited: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly cachedTokens: number;
  /** Requests the simulator answered. */
  readonly simulatedCalls: number;
}

export const ZERO_CODEFRAME_COUNTERS: CodeframeCounters = {
  chunksDone: 0,
  chunksFailed: 0,
  themesExtracted: 0,
  mergeCalls: 0,
  mergeFailed: 0,
  measureDone: 0,
  measureFailed: 0,
  calls: { extract: 0, merge: 0, measure: 0 },
  rateLimited: 0,
  promptTokens: 0,
  completionTokens: 0,
  cachedTokens: 0,
  simulatedCalls: 0,
};

/** What one model-calling activity reports: the calls it cost, its tokens, and whether it was answered before. */
export interface CallOutcome {
  readonly usage: TokenUsage;
  /** Requests sent for it across attempts (0 when an earlier attempt's stored answer was reused). */
  readonly apiCalls: number;
  readonly reused: boolean;
  readonly simulated?: boolean;
}

/** Adds one call outcome; `done` names the counter of the step it finished. */
export function addCall(
  c: CodeframeCounters,
  kind: CallKind,
  o: CallOutcome,
  done: 'chunksDone' | 'mergeCalls' | 'measureDone',
): CodeframeCounters {
  return {
    ...c,
    [done]: c[done] + 1,
    calls: { ...c.calls, [kind]: c.calls[kind] + o.apiCalls },
    promptTokens: c.promptTokens + o.usage.prompt,
    completionTokens: c.completionTokens + o.usage.completion,
    cachedTokens: c.cachedTokens + o.usage.cached,
    simulatedCalls: c.simulatedCalls + (o.simulated && o.apiCalls > 0 ? 1 : 0),
  };
}

/** A step whose retries ran out: the calls it cost still count. */
export function addFailure(
  c: CodeframeCounters,
  kind: CallKind,
  attempts: number,
  failed: 'chunksFailed' | 'mergeFailed' | 'measureFailed',
): CodeframeCounters {
  return { ...c, [failed]: c[failed] + 1, calls: { ...c.calls, [kind]: c.calls[kind] + attempts } };
}

export function totalCalls(c: CodeframeCounters): number {
  return c.calls.extract + c.calls.merge + c.calls.measure;
}

/** The live view of a draft, answered by the workflow's `codeframeProgress` query. */
export interface CodeframeProgress {
  readonly codeframeId: string;
  readonly phase: CodeframePhase;
  /** A dry run against the simulator: the codes are not a model's reading of the answers. */
  readonly simulated: boolean;
  readonly fileName: string;
  readonly column: string;
  readonly answers: {
    /** Rows with an answer to read (empty and invalid ones left out). */
    readonly rows: number;
    readonly unique: number;
    /** Unique answers read for themes. */
    readonly chosen: number;
    readonly sampled: boolean;
  };
  readonly chunks: {
    readonly total: number;
    readonly done: number;
    readonly failed: number;
    readonly inFlight: number;
  };
  /** Themes so far: extracted (while extracting), left after the last merge round (after). */
  readonly themes: number;
  readonly merge: { readonly round: number; readonly calls: number; readonly failed: number };
  readonly measure: {
    readonly batches: number;
    readonly done: number;
    readonly failed: number;
    /** Rows drawn to measure the draft. */
    readonly sample: number;
  };
  readonly apiCalls: number;
  readonly calls: Readonly<Record<CallKind, number>>;
  readonly rateLimited: number;
  readonly tokens: {
    readonly prompt: number;
    readonly completion: number;
    readonly cached: number;
    readonly total: number;
  };
  readonly window: { readonly size: number; readonly max: number };
  readonly elapsedSeconds: number;
  readonly startedAt: string;
  readonly updatedAt: string;
}

export interface CodeframeProgressInput {
  readonly codeframeId: string;
  readonly fileName: string;
  readonly column: string;
  readonly phase: CodeframePhase;
  readonly plan: CodeframePlan | undefined;
  readonly counters: CodeframeCounters;
  readonly themes: number;
  readonly mergeRound: number;
  readonly measureBatches: number;
  readonly inFlight: number;
  readonly window: { readonly size: number; readonly max: number };
  readonly startedAt: number;
  readonly now: number;
}

export function describeCodeframeProgress(p: CodeframeProgressInput): CodeframeProgress {
  const c = p.counters;
  const extracting = p.phase === 'extracting';
  return {
    codeframeId: p.codeframeId,
    phase: p.phase,
    simulated: (p.plan?.simulated ?? false) || c.simulatedCalls > 0,
    fileName: p.fileName,
    column: p.column,
    answers: {
      rows: p.plan?.rows.classify ?? 0,
      unique: p.plan?.uniqueAnswers ?? 0,
      chosen: p.plan?.chosen ?? 0,
      sampled: p.plan?.sampled ?? false,
    },
    chunks: {
      total: p.plan?.chunks ?? 0,
      done: c.chunksDone,
      failed: c.chunksFailed,
      inFlight: extracting ? p.inFlight : 0,
    },
    themes: extracting ? c.themesExtracted : p.themes,
    merge: { round: p.mergeRound, calls: c.mergeCalls, failed: c.mergeFailed },
    measure: {
      batches: p.measureBatches,
      done: c.measureDone,
      failed: c.measureFailed,
      sample: p.plan?.measureRows ?? 0,
    },
    apiCalls: totalCalls(c),
    calls: c.calls,
    rateLimited: c.rateLimited,
    tokens: {
      prompt: c.promptTokens,
      completion: c.completionTokens,
      cached: c.cachedTokens,
      total: c.promptTokens + c.completionTokens,
    },
    window: p.window,
    elapsedSeconds: Math.round((p.now - p.startedAt) / 100) / 10,
    startedAt: new Date(p.startedAt).toISOString(),
    updatedAt: new Date(p.now).toISOString(),
  };
}
