/**
 * Batch API mode, the pure rules: how lines are cut into files, how often the job looks at its batches, and
 * when lines without a usable answer go into a further batch or are asked synchronously.
 */
import type { TokenUsage } from './token-usage.js';

/** OpenAI's limits on one input file: 50,000 requests and 200 MB (a margin kept under the bytes). */
export const BATCH_FILE_LIMITS = { lines: 50_000, bytes: 190 * 1024 * 1024 } as const;

/** The statuses of a batch, as OpenAI names them. */
export type BatchStatus =
  | 'validating'
  | 'failed'
  | 'in_progress'
  | 'finalizing'
  | 'completed'
  | 'expired'
  | 'cancelling'
  | 'cancelled';

const ENDED: readonly string[] = ['completed', 'failed', 'expired', 'cancelled'];

/** A batch in one of these changes no more: its files can be read. */
export function isEndedStatus(status: string): boolean {
  return ENDED.includes(status);
}

/** A batch failed for this reason was refused for the queue's size, not its content: created again later. */
export const QUEUE_FULL_CODE = 'token_limit_exceeded';

/** The `custom_id` of a planned batch's line: its index, so output lines map back whatever their order. */
export function customIdOf(index: number): string {
  return `batch-${index}`;
}

export function indexOfCustomId(customId: string): number | undefined {
  const match = /^batch-(\d+)$/.exec(customId);
  return match ? Number(match[1]) : undefined;
}

/**
 * Cuts lines (given by their size in bytes, newline included) into files of at most `limits.lines` lines and
 * `limits.bytes` bytes, in order: [from, to) positions. A single line over the byte limit gets a file alone
 * (the API will refuse it, and its batch's failure says why).
 */
export function cutFiles(
  lineBytes: readonly number[],
  limits: { readonly lines: number; readonly bytes: number } = BATCH_FILE_LIMITS,
): Array<readonly [number, number]> {
  const files: Array<readonly [number, number]> = [];
  let from = 0;
  let bytes = 0;
  lineBytes.forEach((size, i) => {
    if (i > from && (i - from >= limits.lines || bytes + size > limits.bytes)) {
      files.push([from, i]);
      from = i;
      bytes = 0;
    }
    bytes += size;
  });
  if (lineBytes.length > from) files.push([from, lineBytes.length]);
  return files;
}

/** How often a job asks about its open batches: the first wait, growing by half each time up to the most. */
export interface BatchPoll {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** Batches take minutes to hours: a first look after 30 s, then less and less often, at least every 10 min. */
export const DEFAULT_BATCH_POLL: BatchPoll = { initialMs: 30_000, maxMs: 600_000 };

export function nextPollMs(currentMs: number, poll: BatchPoll): number {
  return Math.min(poll.maxMs, Math.max(poll.initialMs, Math.round(currentMs * 1.5)));
}

/** Rounds of batches at most; what the last leaves is asked synchronously. */
export const MAX_BATCH_ROUNDS = 3;

/** Lines left that are "few": asked synchronously rather than waiting on another batch. */
export function fewLinesLeft(totalLines: number): number {
  return Math.max(20, Math.ceil(totalLines * 0.01));
}

/**
 * The retry rule, after every batch of a round has ended. Lines without a usable answer (in the error file,
 * unusable output, an expired or cancelled batch's unrun lines) go into a further batch, at half price,
 * while more than a few remain (more than 1 % of the job's lines, and more than 20), fewer than
 * MAX_BATCH_ROUNDS rounds have run and the last round coded something (a round that coded nothing would
 * only fail again). Otherwise they are asked synchronously, with the synchronous path's retries, salvage and
 * final fallback to "Other" with the reason. Answers partly wrong always go the synchronous way: only their
 * bad answers are asked again, a request or two each.
 */
export function afterRound(r: {
  readonly round: number;
  readonly remaining: number;
  readonly codedThisRound: number;
  readonly totalLines: number;
}): 'batch' | 'sync' {
  const more = r.remaining > fewLinesLeft(r.totalLines) && r.round < MAX_BATCH_ROUNDS && r.codedThisRound > 0;
  return more ? 'batch' : 'sync';
}

/** A round's file written and not yet sent (held at the cost cap, or about to go): no batch yet. */
export const NOT_SENT = 'not_sent';

/** One batch of a round, as the workflow holds it. */
export interface BatchPart {
  readonly part: number;
  /** '' while the file is not sent. */
  readonly batchId: string;
  readonly lines: number;
  readonly status: BatchStatus | typeof NOT_SENT;
  /** The most its lines can cost, in dollars at Batch API prices (the spending cap); absent in older rounds. */
  readonly ceiling?: number;
  readonly completed: number;
  readonly failed: number;
  /** Its output and error files have been read and what they answered stored. */
  readonly collected: boolean;
  /** Why it failed, when it did (a full queue, `token_limit_exceeded`, is created again later). */
  readonly error?: { readonly code: string; readonly message: string };
  /** Once collected: batches it coded whole, and lines to ask again. */
  readonly coded?: number;
  readonly retry?: number;
}

/** The Batch API stage of a job: carried through continue-as-new (ids and counts, never answers). */
export interface BatchApiState {
  /** The round under way (1 for the first batches); 0 before any was sent. */
  readonly round: number;
  /** `submit`: the next round's files are to be sent; `wait`: its batches run; `sync`: the rest is asked directly. */
  readonly stage: 'submit' | 'wait' | 'sync';
  readonly parts: readonly BatchPart[];
  /** The next wait before looking at the batches again. */
  readonly pollMs: number;
  /** The sync stage: pending batches from this index on are still to be paged in. */
  readonly cursor?: number;
  /** Lines the rounds so far coded whole, and lines sent in all. */
  readonly linesCoded: number;
  readonly linesSent: number;
  /** What the person should know: a full queue, lines handed to the synchronous path… */
  readonly note?: string;
}

export function initialBatchApiState(poll: BatchPoll): BatchApiState {
  return { round: 0, stage: 'submit', parts: [], pollMs: poll.initialMs, linesCoded: 0, linesSent: 0 };
}

/** What reading one ended batch's files found. */
export interface BatchPartOutcome {
  readonly part: number;
  readonly lines: number;
  /** Planned batches whose answer validated whole (stored) and their sheet rows. */
  readonly coded: number;
  readonly rowsCoded: number;
  /** Answered partly wrong: the valid labels stored, the bad answers asked again synchronously. */
  readonly salvage: number;
  /** No usable answer: asked again (another round, or synchronously). */
  readonly retry: number;
  /** Tokens of every line answered: billed at the batch price whether or not the answer was usable. */
  readonly usage: TokenUsage;
  readonly answered: number;
  /** Why lines are to be asked again, by reason (`server_error`, `batch_expired`, `ModelOutputError`…). */
  readonly reasons: Readonly<Record<string, number>>;
  readonly simulated?: boolean;
  readonly cut?: number;
}

/** The Batch API part of the progress view. */
export interface BatchApiProgress {
  readonly round: number;
  readonly stage: 'submitting' | 'waiting' | 'synchronous';
  readonly batches: ReadonlyArray<{
    readonly id: string;
    readonly status: string;
    readonly total: number;
    readonly completed: number;
    readonly failed: number;
  }>;
  /** Over the round's batches. */
  readonly requests: { readonly total: number; readonly completed: number; readonly failed: number };
  readonly linesCoded: number;
  readonly linesSent: number;
  readonly note?: string;
}

export function describeBatchApi(state: BatchApiState): BatchApiProgress {
  const stage = { submit: 'submitting', wait: 'waiting', sync: 'synchronous' } as const;
  const batches = state.parts.map((p) => ({
    id: p.batchId,
    status: p.status,
    total: p.lines,
    completed: p.completed,
    failed: p.failed,
  }));
  const sum = (pick: (b: (typeof batches)[number]) => number) => batches.reduce((n, b) => n + pick(b), 0);
  return {
    round: state.round,
    stage: stage[state.stage],
    batches,
    requests: {
      total: sum((b) => b.total),
      completed: sum((b) => b.completed),
      failed: sum((b) => b.failed),
    },
    linesCoded: state.linesCoded,
    linesSent: state.linesSent,
    ...(state.note ? { note: state.note } : {}),
  };
}

/** One line for a terminal: `Batch API round 1: in_progress 430/1,000 (3 failed)`. */
export function batchApiLine(p: BatchApiProgress): string {
  const n = (x: number) => x.toLocaleString('en-US');
  if (p.stage === 'submitting') return `Batch API round ${p.round + 1}: sending`;
  if (p.stage === 'synchronous')
    return `Batch API done (${n(p.linesCoded)} lines coded); the rest asked directly`;
  const statuses = [...new Set(p.batches.map((b) => b.status))].join('/');
  const failed = p.requests.failed > 0 ? ` (${n(p.requests.failed)} failed)` : '';
  const note = p.note ? ` · ${p.note}` : '';
  return `Batch API round ${p.round}: ${statuses} ${n(p.requests.completed)}/${n(p.requests.total)}${failed}${note}`;
}
