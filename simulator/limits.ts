import { TokenBucket, formatGoDuration } from '../domain/rate.js';

/** With no budget configured the simulator reports gpt-4o-mini's tier-5 limits and never enforces them. */
const UNLIMITED_RPM = 30_000;
const UNLIMITED_TPM = 150_000_000;

/** OpenAI states waits in whole milliseconds and timers fire on whole milliseconds: a shorter wait is none. */
const NEGLIGIBLE_WAIT_MS = 1;

export type LimitType = 'requests' | 'tokens';

/** Why a request was not admitted, in the terms of OpenAI's 429 message. */
export interface Rejection {
  readonly type: LimitType;
  readonly limit: number;
  readonly used: number;
  readonly requested: number;
  /** Real milliseconds until the request would be admitted. */
  readonly waitMs: number;
}

/**
 * The two budgets OpenAI enforces per model: requests and tokens per minute, each a bucket that starts full
 * and refills continuously at its capacity per (scaled) minute.
 */
export class RateLimits {
  private readonly requests: TokenBucket;
  private readonly tokens: TokenBucket;

  constructor(
    private readonly rpm: number | undefined,
    private readonly tpm: number | undefined,
    timeScale: number,
    now: number,
  ) {
    const minuteMs = 60_000 * timeScale;
    this.requests = new TokenBucket(rpm ?? UNLIMITED_RPM, minuteMs, now);
    this.tokens = new TokenBucket(tpm ?? UNLIMITED_TPM, minuteMs, now);
  }

  get tokenLimit(): number {
    return this.tokens.capacity;
  }

  /** A request charging more than the whole TPM budget can never be admitted. */
  tooLarge(charge: number): boolean {
    return this.tpm !== undefined && charge > this.tpm;
  }

  /**
   * Admits a request, taking one request and its token charge, or says which budget is short (the one
   * with the longer wait) and takes nothing. Unenforced budgets are still drawn on, for the headers.
   */
  admit(charge: number, now: number): Rejection | undefined {
    const requestWait = this.rpm === undefined ? 0 : this.requests.waitFor(1, now);
    const tokenWait = this.tpm === undefined ? 0 : this.tokens.waitFor(charge, now);
    if (Math.max(requestWait, tokenWait) >= NEGLIGIBLE_WAIT_MS) {
      return tokenWait > requestWait
        ? this.rejection('tokens', this.tokens, charge, tokenWait, now)
        : this.rejection('requests', this.requests, 1, requestWait, now);
    }
    this.requests.reserve(1, now);
    this.tokens.reserve(charge, now);
    return undefined;
  }

  /** An injected `rate_limit` fault: told as if the RPM budget were spent, to wait one request's refill. */
  spentRequests(): Rejection {
    const limit = this.requests.capacity;
    return { type: 'requests', limit, used: limit, requested: 1, waitMs: 1 / this.requests.ratePerMs };
  }

  /** The `x-ratelimit-*` headers: limits, what is left (floored) and the time until each bucket is full. */
  headers(now: number): Record<string, string> {
    return {
      'x-ratelimit-limit-requests': String(this.requests.capacity),
      'x-ratelimit-limit-tokens': String(this.tokens.capacity),
      'x-ratelimit-remaining-requests': String(Math.max(0, Math.floor(this.requests.available(now)))),
      'x-ratelimit-remaining-tokens': String(Math.max(0, Math.floor(this.tokens.available(now)))),
      'x-ratelimit-reset-requests': formatGoDuration(this.requests.resetIn(now)),
      'x-ratelimit-reset-tokens': formatGoDuration(this.tokens.resetIn(now)),
    };
  }

  private rejection(
    type: LimitType,
    bucket: TokenBucket,
    requested: number,
    waitMs: number,
    now: number,
  ): Rejection {
    const used = Math.min(bucket.capacity, Math.max(0, Math.ceil(bucket.capacity - bucket.available(now))));
    return { type, limit: bucket.capacity, used, requested, waitMs };
  }
}

const LIMIT_NAMES: Record<LimitType, string> = {
  requests: 'requests per min (RPM)',
  tokens: 'tokens per min (TPM)',
};

const LEARN_MORE = 'Visit https://platform.openai.com/account/rate-limits to learn more.';

/** OpenAI's wording, e.g. "… on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 644ms." */
export function rateLimitMessage(model: string, r: Rejection): string {
  // Whole milliseconds, rounded up, so that waiting the stated time is always enough.
  const wait = formatGoDuration(Math.ceil(r.waitMs));
  return (
    `Rate limit reached for ${model} in organization org-sim on ${LIMIT_NAMES[r.type]}: ` +
    `Limit ${r.limit}, Used ${r.used}, Requested ${r.requested}. Please try again in ${wait}. ${LEARN_MORE}`
  );
}

export function requestTooLargeMessage(model: string, limit: number, requested: number): string {
  return (
    `Request too large for ${model} in organization org-sim on ${LIMIT_NAMES.tokens}: ` +
    `Limit ${limit}, Requested ${requested}. The input or output tokens must be reduced in order to run ` +
    `successfully. ${LEARN_MORE}`
  );
}
