import { randomBytes } from 'node:crypto';
import { FaultInjector, faultTarget } from './faults.js';
import type { FileStore, StoredFile } from './files.js';
import type { ModelBehaviour } from './model.js';
import { answerChat } from './model.js';
import type { BatchFaultRule, BatchOptions } from './options.js';
import type { PromptCache } from './protocol.js';
import { SERVER_ERROR_MESSAGE, chargeOf, errorBody, parseChatRequest, unixSeconds } from './protocol.js';
import type { StatsRecorder } from './stats.js';
import type { BatchStatus } from '../domain/batch-api.js';

/** The one endpoint the simulator runs batches for. */
export const BATCH_ENDPOINT = '/v1/chat/completions';
export const MAX_BATCH_LINES = 50_000;

/** Simulated milliseconds, before `timeScale`. */
const DEFAULT_TIMING = {
  validatingMs: 5_000,
  lineMs: 100,
  finalizingMs: 5_000,
  cancellingMs: 5_000,
  completionWindowMs: 86_400_000,
};
const DEFAULT_EXPIRE_FRACTION = 0.5;

export type { BatchStatus } from '../domain/batch-api.js';

/** An entry of a failed batch's `errors.data`. */
export interface BatchError {
  readonly code: string;
  readonly message: string;
  readonly param: string | null;
  /** 1-based line of the input file, or null for the file as a whole. */
  readonly line: number | null;
}

const MESSAGES = {
  expired: 'This request could not be executed before the completion window expired.',
  // Inferred: OpenAI leaves a cancelled batch's unrun lines in the error file as it does an expired one's.
  cancelled: 'This request was not executed because the batch was cancelled.',
  emptyFile: 'The batch input file is empty. Please ensure that the batch contains at least one request.',
  invalidJson: 'This line is not parseable as valid JSON.',
  duplicate:
    'The custom_id for this request is a duplicate of another request. The custom_id parameter must be ' +
    'unique for each request in a batch.',
};

/** A line that passed validation. */
interface Task {
  readonly customId: string;
  readonly body: Record<string, unknown>;
}

interface Batch {
  readonly id: string;
  readonly inputFileId: string;
  /** The input file as it was at creation: deleting the file later changes nothing. */
  readonly input: string;
  readonly metadata: Record<string, string> | null;
  /** Every time here is `performance.now()` milliseconds; durations are real (already scaled). */
  readonly validatedAt: number;
  readonly lineMs: number;
  readonly finalizingMs: number;
  expiresAt: number;
  cancelledAt: number;
  status: BatchStatus;
  /** When the batch entered each status it has been in. */
  readonly entered: Partial<Record<BatchStatus, number>>;
  model: string | null;
  /** In the order they are run (shuffled), so a partial output is a random subset. */
  tasks: Task[];
  /** Tasks run so far. */
  done: number;
  /** Set for a batch picked by `expire`: it expires after this many lines. */
  expireAfter: number | undefined;
  /** The queue estimate charged against `enqueuedTokenLimit` while the batch runs. */
  charge: number;
  errors: BatchError[] | null;
  /** JSONL lines of the output and error files, in the order written. */
  readonly output: string[];
  readonly failures: string[];
  failed: number;
  readonly usage: { input: number; cached: number; output: number };
  outputFileId: string | null;
  errorFileId: string | null;
}

/** What the queue takes from the rest of the simulator. */
export interface BatchQueueDeps {
  readonly files: FileStore;
  readonly stats: StatsRecorder;
  /** The simulator's seeded PRNG (a function: `configure` may reseed it). */
  readonly random: () => number;
  /** The prompt cache shared with the synchronous endpoint, or undefined with `cachePrompts: false`. */
  readonly promptCache: () => PromptCache | undefined;
  /** The model's knobs in force (`wrongRate`), read per line. */
  readonly behaviour?: () => ModelBehaviour;
}

export type CancelResult =
  | { readonly ok: true; readonly batch: BatchObject }
  | { readonly ok: false; readonly status: BatchStatus | undefined };

export type BatchObject = ReturnType<typeof batchObject>;

/**
 * The Batch API's batches and their lifecycle, run lazily: nothing happens on a timer; every call first
 * `advance`s to `now`, replaying what would have happened since, event by event in time order across batches
 * (so a batch that completed at t frees the queue for one that finished validating after t). Lines are
 * answered when their time has come by the same `answerChat` as synchronous requests, without RPM or TPM.
 */
export class BatchQueue {
  private readonly batches = new Map<string, Batch>();
  private options: BatchOptions = {};
  private timeScale = 1;
  private faults = new FaultInjector<BatchFaultRule>([]);
  /** Batches that reached `in_progress` since `expire` was configured. */
  private started = 0;

  constructor(private readonly deps: BatchQueueDeps) {}

  /** New options; `rulesChanged` restarts the fault and expiry counts. Running batches keep their timing. */
  configure(options: BatchOptions | undefined, timeScale: number, rulesChanged: boolean): void {
    this.options = options ?? {};
    this.timeScale = timeScale;
    if (rulesChanged) {
      this.faults = new FaultInjector(this.options.faults ?? []);
      this.started = 0;
    }
  }

  create(input: StoredFile, metadata: Record<string, string> | null, now: number): BatchObject {
    this.advance(now);
    const batch: Batch = {
      id: `batch_${randomBytes(16).toString('hex')}`,
      inputFileId: input.id,
      input: input.content.toString('utf8'),
      metadata,
      validatedAt: now + this.scaled('validatingMs'),
      lineMs: this.scaled('lineMs'),
      finalizingMs: this.scaled('finalizingMs'),
      expiresAt: now + this.scaled('completionWindowMs'),
      cancelledAt: Infinity,
      status: 'validating',
      entered: { validating: now },
      model: null,
      tasks: [],
      done: 0,
      expireAfter: undefined,
      charge: 0,
      errors: null,
      output: [],
      failures: [],
      failed: 0,
      usage: { input: 0, cached: 0, output: 0 },
      outputFileId: null,
      errorFileId: null,
    };
    this.batches.set(batch.id, batch);
    this.deps.stats.batchEvent('batchesCreated');
    return batchObject(batch);
  }

  get(id: string, now: number): BatchObject | undefined {
    this.advance(now);
    const batch = this.batches.get(id);
    return batch && batchObject(batch);
  }

  /** Newest first, as OpenAI lists them. */
  list(now: number): BatchObject[] {
    this.advance(now);
    return [...this.batches.values()].reverse().map(batchObject);
  }

  /** A running batch goes `cancelling`; one already cancelling or cancelled is returned as it is. */
  cancel(id: string, now: number): CancelResult {
    this.advance(now);
    const batch = this.batches.get(id);
    if (batch === undefined) return { ok: false, status: undefined };
    switch (batch.status) {
      case 'validating':
      case 'in_progress':
      case 'finalizing':
        // Lines stop here: those not run by now end in the error file as `batch_cancelled`.
        this.enter(batch, 'cancelling', now);
        batch.cancelledAt = now + this.scaled('cancellingMs');
        this.deps.stats.batchEvent('cancels');
        break;
      case 'cancelling':
      case 'cancelled':
        break;
      default:
        return { ok: false, status: batch.status };
    }
    return { ok: true, batch: batchObject(batch) };
  }

  /** Brings every batch up to `now`. */
  advance(now: number): void {
    for (;;) {
      let next: { batch: Batch; at: number } | undefined;
      for (const batch of this.batches.values()) {
        const at = nextEvent(batch);
        if (at !== undefined && at <= now && (next === undefined || at < next.at)) next = { batch, at };
      }
      if (next === undefined) break;
      this.fire(next.batch, next.at);
    }
    for (const batch of this.batches.values()) {
      if (batch.status === 'in_progress') this.runLines(batch, now);
    }
  }

  private fire(batch: Batch, at: number): void {
    switch (batch.status) {
      case 'validating':
        if (at >= batch.expiresAt) this.finish(batch, 'expired', at);
        else this.validate(batch, at);
        return;
      case 'in_progress':
        this.runLines(batch, at);
        if (batch.done === batch.tasks.length) this.enter(batch, 'finalizing', at);
        else this.finish(batch, 'expired', at);
        return;
      case 'finalizing':
        this.finish(batch, 'completed', at);
        return;
      case 'cancelling':
        this.finish(batch, 'cancelled', at);
        return;
      default:
        return;
    }
  }

  private validate(batch: Batch, at: number): void {
    const read = readTasks(batch.input);
    if (!read.ok) return this.fail(batch, at, read.errors);
    const { tasks, model } = read;
    const charge = tasks.reduce((sum, task) => {
      const parsed = parseChatRequest(task.body);
      return sum + (parsed.ok ? chargeOf(parsed.request) : 0);
    }, 0);
    const limit = this.options.enqueuedTokenLimit;
    if (limit !== undefined && model !== null && this.enqueued(model) + charge > limit) {
      const message = enqueuedLimitMessage(model, limit);
      return this.fail(batch, at, [{ code: 'token_limit_exceeded', message, param: null, line: null }]);
    }
    batch.model = model;
    batch.tasks = shuffle(tasks, this.deps.random);
    batch.charge = charge;
    this.deps.stats.batchEnqueued(charge);
    this.enter(batch, 'in_progress', at);
    const fraction = this.pickExpiry();
    if (fraction !== undefined) {
      batch.expireAfter = Math.floor(tasks.length * fraction);
      batch.expiresAt = at + batch.expireAfter * batch.lineMs;
    }
  }

  /** Tokens of `model` enqueued now: what the running batches were charged. */
  private enqueued(model: string): number {
    let tokens = 0;
    for (const batch of this.batches.values()) {
      const running = ['in_progress', 'finalizing', 'cancelling'].includes(batch.status);
      if (running && batch.model === model) tokens += batch.charge;
    }
    return tokens;
  }

  /** The `expire` fraction if this batch is one the rule picks. */
  private pickExpiry(): number | undefined {
    const rule = this.options.expire;
    if (rule === undefined) return undefined;
    const position = this.started - (rule.after ?? 0);
    this.started += 1;
    if (position < 0 || position >= rule.count) return undefined;
    return rule.fraction ?? DEFAULT_EXPIRE_FRACTION;
  }

  /** Runs the lines whose time has come by `upTo`: one every `lineMs` from the start of `in_progress`. */
  private runLines(batch: Batch, upTo: number): void {
    const start = enteredAt(batch, 'in_progress');
    const last = batch.expireAfter ?? batch.tasks.length;
    while (batch.done < last) {
      const due = start + (batch.done + 1) * batch.lineMs;
      if (due > upTo || (batch.expireAfter === undefined && due >= batch.expiresAt)) return;
      const task = batch.tasks[batch.done];
      if (task === undefined) return;
      this.runLine(batch, task);
      batch.done += 1;
    }
  }

  private runLine(batch: Batch, task: Task): void {
    const { stats } = this.deps;
    const parsed = parseChatRequest(task.body);
    if (!parsed.ok) {
      const body = errorBody(parsed.message, 'invalid_request_error', null, parsed.param);
      return this.failLine(batch, task, 400, body);
    }
    const { request } = parsed;
    const fault = this.faults.pick(faultTarget(request), this.deps.random);
    stats.batchRequest(request.model, request.temperature, fault?.kind);
    if (fault?.kind === 'server_error') {
      return this.failLine(batch, task, 500, errorBody(SERVER_ERROR_MESSAGE, 'server_error', null));
    }
    const answer = answerChat(request, fault?.kind, this.deps.promptCache(), fault, this.deps.behaviour?.());
    batch.output.push(
      resultLine(task.customId, { status_code: 200, request_id: lineRequestId(), body: answer.body }),
    );
    batch.usage.input += answer.usage.promptTokens;
    batch.usage.cached += answer.usage.cachedTokens;
    batch.usage.output += answer.usage.completionTokens;
    stats.batchLine('200');
    stats.batchReply(answer.usage, answer.labelsReturned, answer.validCoding);
  }

  /** An HTTP failure: `error` stays null and the error is the response body, as OpenAI writes it. */
  private failLine(batch: Batch, task: Task, status: number, body: unknown): void {
    batch.failures.push(
      resultLine(task.customId, { status_code: status, request_id: lineRequestId(), body }),
    );
    batch.failed += 1;
    this.deps.stats.batchLine(String(status));
  }

  private fail(batch: Batch, at: number, errors: BatchError[]): void {
    batch.errors = errors;
    this.enter(batch, 'failed', at);
    this.deps.stats.batchEnded('failed');
  }

  /** Ends a batch that ran: lines not run go to the error file, then both files are written, shuffled. */
  private finish(batch: Batch, status: 'completed' | 'expired' | 'cancelled', at: number): void {
    const code = status === 'expired' ? 'batch_expired' : 'batch_cancelled';
    const message = status === 'expired' ? MESSAGES.expired : MESSAGES.cancelled;
    for (const task of batch.tasks.slice(batch.done)) {
      // Not counted in request_counts.failed: OpenAI counts only lines that were run.
      batch.failures.push(resultLine(task.customId, null, { code, message }));
      this.deps.stats.batchLine(code);
    }
    batch.done = batch.tasks.length;
    batch.outputFileId = this.writeFile(batch, 'output', batch.output, at);
    batch.errorFileId = this.writeFile(batch, 'error', batch.failures, at);
    this.enter(batch, status, at);
    this.deps.stats.batchEnded(status);
  }

  private writeFile(batch: Batch, kind: string, lines: string[], at: number): string | null {
    if (lines.length === 0) return null;
    const content = Buffer.from(shuffle(lines, this.deps.random).join('\n') + '\n');
    return this.deps.files.add(`${batch.id}_${kind}.jsonl`, 'batch_output', content, unixSeconds(at)).id;
  }

  private enter(batch: Batch, status: BatchStatus, at: number): void {
    batch.status = status;
    batch.entered[status] = at;
  }

  /** A timing option in real milliseconds. */
  private scaled(name: keyof typeof DEFAULT_TIMING): number {
    return (this.options[name] ?? DEFAULT_TIMING[name]) * this.timeScale;
  }
}

/** When a batch's next status change is due, if it has one. */
function nextEvent(batch: Batch): number | undefined {
  switch (batch.status) {
    case 'validating':
      return Math.min(batch.validatedAt, batch.expiresAt);
    case 'in_progress': {
      const start = enteredAt(batch, 'in_progress');
      if (batch.expireAfter !== undefined) return start + batch.expireAfter * batch.lineMs;
      return Math.min(start + batch.tasks.length * batch.lineMs, batch.expiresAt);
    }
    case 'finalizing':
      return enteredAt(batch, 'finalizing') + batch.finalizingMs;
    case 'cancelling':
      return batch.cancelledAt;
    default:
      return undefined;
  }
}

function enteredAt(batch: Batch, status: BatchStatus): number {
  const at = batch.entered[status];
  if (at === undefined) throw new Error(`${batch.id} has not been ${status}`);
  return at;
}

type ReadTasks =
  | { readonly ok: true; readonly tasks: Task[]; readonly model: string | null }
  | { readonly ok: false; readonly errors: BatchError[] };

/**
 * Validates an input file as OpenAI does at `validating`: at least one and at most 50,000 requests, each a JSON
 * object with a unique `custom_id`, `method` POST, `url` the batch's endpoint and a `body`, all for one model.
 * Every bad line is reported (the first problem of each); blank lines are skipped.
 */
export function readTasks(text: string): ReadTasks {
  const lines = text
    .split('\n')
    .map((raw, i) => ({ raw, line: i + 1 }))
    .filter(({ raw }) => raw.trim() !== '');
  const fileError = (code: string, message: string): ReadTasks => ({
    ok: false,
    errors: [{ code, message, param: null, line: null }],
  });
  if (lines.length === 0) return fileError('empty_file', MESSAGES.emptyFile);
  if (lines.length > MAX_BATCH_LINES) {
    const message = `The batch input file has ${lines.length} requests, more than the limit of 50,000 per batch.`;
    return fileError('too_many_tasks', message);
  }
  const errors: BatchError[] = [];
  const tasks: Task[] = [];
  const seen = new Set<string>();
  let model: string | undefined;
  for (const { raw, line } of lines) {
    const checked = checkLine(parseJson(raw), seen, model);
    if ('code' in checked) {
      errors.push({ ...checked, line });
      continue;
    }
    seen.add(checked.customId);
    if (typeof checked.body.model === 'string') model ??= checked.body.model;
    tasks.push(checked);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, tasks, model: model ?? null };
}

/** One input line: a task, or its first problem. */
function checkLine(
  value: unknown,
  seen: ReadonlySet<string>,
  model: string | undefined,
): Task | Omit<BatchError, 'line'> {
  const problem = (code: string, message: string, param: string | null) => ({ code, message, param });
  const missing = (param: string) =>
    problem('missing_required_parameter', `Missing required parameter: '${param}'.`, param);
  if (!isRecord(value)) return problem('invalid_json_line', MESSAGES.invalidJson, null);
  const { custom_id: customId, method, url, body } = value;
  if (typeof customId !== 'string' || customId === '') return missing('custom_id');
  if (method === undefined) return missing('method');
  if (method !== 'POST')
    return problem('invalid_method', "Invalid 'method': the Batch API sends POST only.", 'method');
  if (url === undefined) return missing('url');
  if (url !== BATCH_ENDPOINT) {
    const message = `The url ${JSON.stringify(url)} of this request does not match the batch's endpoint '${BATCH_ENDPOINT}'.`;
    return problem('url_mismatch', message, 'url');
  }
  if (!isRecord(body)) return missing('body');
  if (seen.has(customId)) return problem('duplicate_custom_id', MESSAGES.duplicate, 'custom_id');
  if (typeof body.model === 'string' && model !== undefined && body.model !== model) {
    const message = `The model '${body.model}' of this request differs from the batch's model '${model}': a batch runs one model.`;
    return problem('model_mismatch', message, 'body.model');
  }
  return { customId, body };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A line of an output or error file. */
function resultLine(customId: string, response: unknown, error: unknown = null): string {
  return JSON.stringify({
    id: `batch_req_${randomBytes(16).toString('hex')}`,
    custom_id: customId,
    response,
    error,
  });
}

/** Batch lines carry a bare hex request id (no `req_`), as OpenAI's output files do. */
function lineRequestId(): string {
  return randomBytes(16).toString('hex');
}

/** A shuffled copy (Fisher–Yates), by the simulator's seeded PRNG. */
function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

export function enqueuedLimitMessage(model: string, limit: number): string {
  return (
    `Enqueued token limit reached for ${model} in organization org-sim. ` +
    `Limit: ${limit.toLocaleString('en-US')} enqueued tokens. Please try submitting fewer tasks or try again ` +
    'once some in_progress batches have been completed.'
  );
}

function unixOrNull(at: number | undefined): number | null {
  return at === undefined ? null : unixSeconds(at);
}

/** The batch object as OpenAI returns it: every field present, null when unset, times in Unix seconds. */
function batchObject(batch: Batch) {
  const { entered, usage } = batch;
  return {
    id: batch.id,
    object: 'batch' as const,
    endpoint: BATCH_ENDPOINT,
    model: batch.model,
    errors: batch.errors && { object: 'list' as const, data: batch.errors },
    input_file_id: batch.inputFileId,
    completion_window: '24h',
    status: batch.status,
    output_file_id: batch.outputFileId,
    error_file_id: batch.errorFileId,
    created_at: unixSeconds(enteredAt(batch, 'validating')),
    in_progress_at: unixOrNull(entered.in_progress),
    expires_at: unixSeconds(batch.expiresAt),
    finalizing_at: unixOrNull(entered.finalizing),
    completed_at: unixOrNull(entered.completed),
    failed_at: unixOrNull(entered.failed),
    expired_at: unixOrNull(entered.expired),
    cancelling_at: unixOrNull(entered.cancelling),
    cancelled_at: unixOrNull(entered.cancelled),
    request_counts: { total: batch.tasks.length, completed: batch.output.length, failed: batch.failed },
    metadata: batch.metadata,
    usage: {
      input_tokens: usage.input,
      input_tokens_details: { cached_tokens: usage.cached },
      output_tokens: usage.output,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: usage.input + usage.output,
    },
  };
}
