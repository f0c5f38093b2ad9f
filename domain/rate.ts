/** Rate arithmetic shared by the limiter, the adaptive window and the simulator. Time is always passed in. */

/** Rate-limit state the API reported with a response, for the adaptive window. */
export interface RateLimitReport {
  readonly limitRequests?: number;
  readonly remainingRequests?: number;
  readonly limitTokens?: number;
  readonly remainingTokens?: number;
}

const UNIT_MS: Record<string, number> = {
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
  us: 0.001,
  µs: 0.001,
  ns: 0.000_001,
};

/** Parses a Go duration as OpenAI's rate-limit headers write it (`12ms`, `1s`, `9.816s`, `1m26.4s`, `6m0s`). */
export function parseGoDuration(text: string | null | undefined): number | undefined {
  if (!text) return undefined;
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = re.exec(trimmed); match; match = re.exec(trimmed)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
    consumed = re.lastIndex;
  }
  return consumed === trimmed.length && consumed > 0 && Number.isFinite(total) ? total : undefined;
}

/** Writes milliseconds as a Go duration, as OpenAI does: `644ms` below a second, else `1m26.4s`. */
export function formatGoDuration(ms: number): string {
  const clamped = Math.max(0, ms);
  if (clamped < 1_000) return `${Math.ceil(clamped)}ms`;
  const totalSeconds = Math.round(clamped) / 1_000;
  const hours = Math.floor(totalSeconds / 3_600);
  const minutes = Math.floor((totalSeconds % 3_600) / 60);
  const seconds = Number((totalSeconds % 60).toFixed(3));
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/**
 * A bucket of `capacity` tokens refilled continuously at `capacity` per `periodMs`, the shape OpenAI's
 * limits have (one minute's budget, refilled evenly). `reserve` may overdraw: the caller waits the delay it
 * returns, so queued callers are served in order at exactly the refill rate.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    readonly capacity: number,
    readonly periodMs: number,
    now: number,
    tokens = capacity,
  ) {
    this.tokens = tokens;
    this.updatedAt = now;
  }

  get ratePerMs(): number {
    return this.capacity / this.periodMs;
  }

  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  /** Milliseconds until `cost` tokens are available (0 if they are now). */
  waitFor(cost: number, now: number): number {
    this.refill(now);
    return this.tokens >= cost ? 0 : (cost - this.tokens) / this.ratePerMs;
  }

  /** Takes `cost` whether or not it is there; returns how long the caller must wait before using it. */
  reserve(cost: number, now: number): number {
    this.refill(now);
    this.tokens -= cost;
    return this.tokens >= 0 ? 0 : -this.tokens / this.ratePerMs;
  }

  /** Gives back (positive) or takes more (negative) once the true cost is known. */
  adjust(delta: number, now: number): void {
    this.refill(now);
    this.tokens = Math.min(this.capacity, this.tokens + delta);
  }

  /** Never believe more is left than the server says: aligns down to its `remaining`. */
  alignDown(remaining: number, now: number): void {
    this.refill(now);
    if (remaining < this.tokens) this.tokens = remaining;
  }

  /** Milliseconds until the bucket is full again (what `x-ratelimit-reset-*` reports). */
  resetIn(now: number): number {
    this.refill(now);
    return Math.max(0, (this.capacity - this.tokens) / this.ratePerMs);
  }

  snapshot(now: number): { tokens: number; at: number } {
    this.refill(now);
    return { tokens: this.tokens, at: this.updatedAt };
  }

  private refill(now: number): void {
    if (now > this.updatedAt) {
      this.tokens = Math.min(this.capacity, this.tokens + (now - this.updatedAt) * this.ratePerMs);
      this.updatedAt = now;
    }
  }
}

/**
 * The job's window of batches in flight, steered by additive increase and multiplicative decrease:
 * halve on a 429 (at most once per `cooldown` completions, so one burst of 429s counts once), grow by one
 * after a full window of successes, never beyond `max` or below 1.
 */
export interface AdaptiveWindow {
  readonly size: number;
  readonly max: number;
  /** Successes since the window last changed. */
  readonly streak: number;
  /** Completions to wait before another decrease, so that one burst of 429s halves the window once. */
  readonly cooldown: number;
}

export function initialWindow(max: number): AdaptiveWindow {
  return { size: max, max, streak: 0, cooldown: 0 };
}

export function windowOnRateLimited(w: AdaptiveWindow): AdaptiveWindow {
  // 429s count down the cooldown too: when nothing but 429s come back, the window keeps halving.
  if (w.cooldown > 0) return { ...w, cooldown: w.cooldown - 1 };
  const size = Math.max(1, Math.floor(w.size / 2));
  return { ...w, size, streak: 0, cooldown: w.size };
}

/**
 * `nearLimit`: the API said less than a tenth of a limit is left (one no budget paces): narrow now, as a
 * 429 would, rather than send the window into one.
 */
export function windowOnSuccess(w: AdaptiveWindow, nearLimit: boolean): AdaptiveWindow {
  if (nearLimit) return windowOnRateLimited(w);
  const cooldown = Math.max(0, w.cooldown - 1);
  const streak = w.streak + 1;
  if (streak >= w.size && w.size < w.max) return { ...w, size: w.size + 1, streak: 0, cooldown };
  return { ...w, streak, cooldown };
}

/**
 * The rule before a low `remaining` narrowed the window: it only held it (no growth). Workflows that ran
 * on that code replay with it (see the `near-limit-window` patch in workflows/classify-job.ts).
 */
export function windowHeldWhenLow(w: AdaptiveWindow, low: boolean): AdaptiveWindow {
  if (!low) return windowOnSuccess(w, false);
  return { ...w, streak: 0, cooldown: Math.max(0, w.cooldown - 1) };
}

/** Which limits a budget (OPENAI_RPM, OPENAI_TPM) already paces. */
export interface Paced {
  readonly requests: boolean;
  readonly tokens: boolean;
}

/**
 * Less than a tenth of a limit left, as the API reported it, for a limit no budget paces. A paced limit
 * runs near empty by design (the budget spends exactly what refills), so its `remaining` says nothing.
 */
export function isLowRemaining(
  r: RateLimitReport | undefined,
  paced: Paced = { requests: false, tokens: false },
): boolean {
  if (!r) return false;
  const low = (remaining?: number, limit?: number) =>
    remaining !== undefined && limit !== undefined && limit > 0 && remaining < limit * 0.1;
  return (
    (!paced.requests && low(r.remainingRequests, r.limitRequests)) ||
    (!paced.tokens && low(r.remainingTokens, r.limitTokens))
  );
}

/** A person set the concurrency: the window opens to it at once; 429s still narrow it from there. */
export function windowWithMax(w: AdaptiveWindow, max: number): AdaptiveWindow {
  return { ...w, max, size: max, streak: 0 };
}
