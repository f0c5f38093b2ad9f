import type { Usage } from './protocol.js';

export interface SimulatorStats {
  /** Every POST /v1/chat/completions received (Batch API lines are counted apart, under `batch`). */
  requests: number;
  /**
   * One entry per finished request, by outcome: the HTTP status ('200', '429', '500', …), 'drop' (connection
   * destroyed), 'hang' (held until the client gave up or the server closed) or 'aborted' (the client left
   * before its answer was ready).
   */
  byStatus: Record<string, number>;
  /** Injected faults by kind. */
  faults: Record<string, number>;
  /** Arrival times (as `arrivals`) of the requests that met each fault kind, in order: which request was whose. */
  faultArrivals: Record<string, number[]>;
  /** Requests by the model and temperature they asked for, e.g. `gpt-4o-mini @ 0.1` (`@ default` if unset). */
  bySettings: Record<string, number>;
  /** Requests by the `prompt_cache_key` they sent ('' for none). */
  byCacheKey: Record<string, number>;
  /** Well-formed requests by what they ask: `coding`, codeframe `extract` and `merge`, `plain` (no schema). */
  byTask: Record<string, number>;
  /** 200s with a valid coding. */
  answered: number;
  /** Labels returned in 200s whose content is a complete `{"labels": […]}` (faulty codings included). */
  answersLabelled: number;
  /** Usage reported in 200s. */
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  /** What the TPM limiter charged admitted requests (prompt estimate + max tokens). */
  chargedTokens: number;
  inFlight: number;
  maxInFlight: number;
  /** Real ms (relative to start or the last reset) of every request's arrival, in order. */
  arrivals: number[];
  /** Arrival times of the requests that passed the rate limiter. */
  admitted: number[];
  /** The Batch API, apart from the synchronous counts above. */
  batch: BatchApiStats;
}

export interface BatchApiStats {
  /** Files uploaded (output and error files the simulator writes are not counted). */
  filesCreated: number;
  filesDeleted: number;
  batchesCreated: number;
  /** Cancel requests that moved a batch to `cancelling`. */
  cancels: number;
  /** Batches by the final status they reached: completed, failed, expired, cancelled. */
  byStatus: Record<string, number>;
  /** Lines run, whatever their answer: 200 (output file), or 400 / 500 (error file). */
  linesProcessed: number;
  /** Lines by outcome: '200', '400', '500', or 'batch_expired' / 'batch_cancelled' for lines never run. */
  lines: Record<string, number>;
  /** Injected line faults by kind. */
  faults: Record<string, number>;
  /** Lines by model and temperature, as `bySettings`. */
  bySettings: Record<string, number>;
  /** 200 lines with a valid coding. */
  answered: number;
  answersLabelled: number;
  /** Usage of the 200 lines (what the batch objects' `usage` adds up). */
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  /** What batches admitted to the queue were charged against `enqueuedTokenLimit` (chars / 4 + max tokens a line). */
  enqueuedTokens: number;
}

export type BatchApiEvent = 'filesCreated' | 'filesDeleted' | 'batchesCreated' | 'cancels';

function emptyBatchStats(): BatchApiStats {
  return {
    filesCreated: 0,
    filesDeleted: 0,
    batchesCreated: 0,
    cancels: 0,
    byStatus: {},
    linesProcessed: 0,
    lines: {},
    faults: {},
    bySettings: {},
    answered: 0,
    answersLabelled: 0,
    promptTokens: 0,
    completionTokens: 0,
    cachedTokens: 0,
    enqueuedTokens: 0,
  };
}

function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function settingsKey(model: string, temperature: number | undefined): string {
  return `${model} @ ${temperature ?? 'default'}`;
}

function emptyStats(inFlight: number): SimulatorStats {
  return {
    requests: 0,
    byStatus: {},
    faults: {},
    faultArrivals: {},
    bySettings: {},
    byCacheKey: {},
    byTask: {},
    answered: 0,
    answersLabelled: 0,
    promptTokens: 0,
    completionTokens: 0,
    cachedTokens: 0,
    chargedTokens: 0,
    inFlight,
    maxInFlight: inFlight,
    arrivals: [],
    admitted: [],
    batch: emptyBatchStats(),
  };
}

export class StatsRecorder {
  private stats = emptyStats(0);

  constructor(private epoch: number) {}

  /** Counts an arriving request; returns its arrival time relative to the epoch. */
  arrive(now: number): number {
    const at = now - this.epoch;
    this.stats.requests += 1;
    this.stats.arrivals.push(at);
    this.stats.inFlight += 1;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.stats.inFlight);
    return at;
  }

  admit(arrivedAt: number, charge: number): void {
    this.stats.admitted.push(arrivedAt);
    this.stats.chargedTokens += charge;
  }

  /** What a well-formed request asked for. */
  settings(model: string, temperature: number | undefined, cacheKey?: string): void {
    increment(this.stats.bySettings, settingsKey(model, temperature));
    increment(this.stats.byCacheKey, cacheKey ?? '');
  }

  task(kind: string): void {
    increment(this.stats.byTask, kind);
  }

  fault(kind: string, arrivedAt: number): void {
    increment(this.stats.faults, kind);
    (this.stats.faultArrivals[kind] ??= []).push(arrivedAt);
  }

  /** A 200 with a model reply: its usage, the labels it returned and whether it was a valid coding. */
  reply(usage: Usage, labelsReturned: number, validCoding: boolean): void {
    this.stats.promptTokens += usage.promptTokens;
    this.stats.completionTokens += usage.completionTokens;
    this.stats.cachedTokens += usage.cachedTokens;
    this.stats.answersLabelled += labelsReturned;
    if (validCoding) this.stats.answered += 1;
  }

  /** A request has finished with `outcome`. */
  depart(outcome: string): void {
    increment(this.stats.byStatus, outcome);
    this.stats.inFlight -= 1;
  }

  batchEvent(event: BatchApiEvent): void {
    this.stats.batch[event] += 1;
  }

  batchEnded(status: string): void {
    increment(this.stats.batch.byStatus, status);
  }

  batchEnqueued(tokens: number): void {
    this.stats.batch.enqueuedTokens += tokens;
  }

  /** A well-formed line's model and temperature, and the fault it met. */
  batchRequest(model: string, temperature: number | undefined, fault: string | undefined): void {
    increment(this.stats.batch.bySettings, settingsKey(model, temperature));
    if (fault !== undefined) increment(this.stats.batch.faults, fault);
  }

  /** A line that ended: run ('200', '400', '500') or not ('batch_expired', 'batch_cancelled'). */
  batchLine(outcome: string): void {
    increment(this.stats.batch.lines, outcome);
    if (/^\d+$/.test(outcome)) this.stats.batch.linesProcessed += 1;
  }

  /** A 200 line: its usage, the labels it returned and whether it was a valid coding. */
  batchReply(usage: Usage, labelsReturned: number, validCoding: boolean): void {
    const { batch } = this.stats;
    batch.promptTokens += usage.promptTokens;
    batch.completionTokens += usage.completionTokens;
    batch.cachedTokens += usage.cachedTokens;
    batch.answersLabelled += labelsReturned;
    if (validCoding) batch.answered += 1;
  }

  snapshot(): SimulatorStats {
    return structuredClone(this.stats);
  }

  /** Starts counting afresh from `now`; requests still in flight stay counted there. */
  reset(now: number): void {
    this.epoch = now;
    this.stats = emptyStats(this.stats.inFlight);
  }
}
