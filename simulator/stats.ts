import type { Usage } from './protocol.js';

export interface SimulatorStats {
  /** Every POST /v1/chat/completions received. */
  requests: number;
  /**
   * One entry per finished request, by outcome: the HTTP status ('200', '429', '500', …), 'drop' (connection
   * destroyed), 'hang' (held until the client gave up or the server closed) or 'aborted' (the client left
   * before its answer was ready).
   */
  byStatus: Record<string, number>;
  /** Injected faults by kind. */
  faults: Record<string, number>;
  /** Requests by the model and temperature they asked for, e.g. `gpt-4o-mini @ 0.1` (`@ default` if unset). */
  bySettings: Record<string, number>;
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
}

function emptyStats(inFlight: number): SimulatorStats {
  return {
    requests: 0,
    byStatus: {},
    faults: {},
    bySettings: {},
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
  settings(model: string, temperature: number | undefined): void {
    const key = `${model} @ ${temperature ?? 'default'}`;
    this.stats.bySettings[key] = (this.stats.bySettings[key] ?? 0) + 1;
  }

  fault(kind: string): void {
    this.stats.faults[kind] = (this.stats.faults[kind] ?? 0) + 1;
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
    this.stats.byStatus[outcome] = (this.stats.byStatus[outcome] ?? 0) + 1;
    this.stats.inFlight -= 1;
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
