import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { TokenBucket } from '../domain/rate.js';
import type { BudgetInput, BudgetLimits, ReserveRequest } from './definitions.js';
import { MAX_RESERVATIONS_PER_UPDATE, budgetQuery, reserveUpdate } from './definitions.js';

const MINUTE = 60_000;
/** Updates per run before continuing as new (a few history events each; the server allows 2,000 a run). */
const UPDATES_PER_RUN = 1_000;
/**
 * Slack for the time between a reservation and the request's arrival at the API, which varies (the
 * first request also opens a connection). The API's bucket starts refilling at the first arrival, ours at
 * the first reservation: reserving as if this much refill were not there yet keeps every request inside
 * the API's budget, even on a loaded machine. It costs this much time once per job, not per request.
 */
const SAFETY_MS = 750;
/** With nothing reserved for this long every bucket is full again: the workflow may end. */
const IDLE_MS = 10 * MINUTE;

/**
 * The request and token budget of one LLM task queue, shared by every worker and job: a bucket per limit,
 * holding one minute's budget and refilled continuously, as OpenAI's own limiter is. Each request reserves
 * its share and is told how long to wait, so queued requests leave at exactly the budget's rate, and a full
 * bucket lets a new job start at once. It also believes the API over its configuration: a lower limit or a
 * smaller remainder in the response headers takes over.
 */
export async function budgetWorkflow(input: BudgetInput): Promise<void> {
  let limits: BudgetLimits = input.limits;
  const start = input.carry?.at ?? Date.now();
  let requests = bucket(limits.rpm, limits, start, input.carry?.requests);
  let tokens = bucket(limits.tpm, limits, start, input.carry?.tokens);
  let reservations = 0;
  let updates = 0;
  let lastReservation = Date.now();

  setHandler(budgetQuery, () => ({
    ...(requests ? { requests: requests.available(Date.now()) } : {}),
    ...(tokens ? { tokens: tokens.available(Date.now()) } : {}),
    limits,
    reservations,
    updates,
  }));

  setHandler(
    reserveUpdate,
    (request: ReserveRequest) => {
      const now = Date.now();
      const changed = (['rpm', 'tpm', 'windowMs'] as const).some((k) => request.limits[k] !== limits[k]);
      if (changed) {
        log.info('budget limits changed', { from: limits, to: request.limits });
        limits = request.limits;
        requests = bucket(limits.rpm, limits, now, requests?.available(now));
        tokens = bucket(limits.tpm, limits, now, tokens?.available(now));
      }
      if (request.refund) tokens?.adjust(request.refund, now);
      const seen = request.observed;
      if (seen) {
        requests = believeServer(requests, seen.limitRequests, seen.remainingRequests, now, 'requests');
        tokens = believeServer(tokens, seen.limitTokens, seen.remainingTokens, now, 'tokens');
      }
      // In order, as if each had come alone: the same spacing as one update per request, one round trip.
      const costs = requestCosts(request);
      const delaysMs = costs.map((cost) =>
        Math.ceil(Math.max(reserve(requests, 1, now), reserve(tokens, cost, now))),
      );
      reservations += costs.length;
      updates += 1;
      lastReservation = now;
      return { delaysMs, delayMs: delaysMs[0] ?? 0 };
    },
    {
      validator: (request: ReserveRequest) => {
        const costs = requestCosts(request);
        if (costs.length < 1 || costs.length > MAX_RESERVATIONS_PER_UPDATE)
          throw new Error(
            `a reservation holds 1 to ${MAX_RESERVATIONS_PER_UPDATE} requests, got ${costs.length}`,
          );
        if (!costs.every((t) => Number.isFinite(t) && t >= 0)) throw new Error('tokens must be numbers ≥ 0');
      },
    },
  );

  const idle = !(await condition(
    () => updates >= UPDATES_PER_RUN || workflowInfo().continueAsNewSuggested,
    IDLE_MS,
  ));
  await condition(allHandlersFinished);
  if (idle && Date.now() - lastReservation >= IDLE_MS) return;
  const now = Date.now();
  await continueAsNew<typeof budgetWorkflow>({
    limits,
    carry: {
      ...(requests ? { requests: requests.available(now) } : {}),
      ...(tokens ? { tokens: tokens.available(now) } : {}),
      at: now,
    },
  });
}

/** The requests of a reservation: a list, or one number (one request, from workers of before the lists). */
function requestCosts(request: ReserveRequest): readonly number[] {
  return typeof request.tokens === 'number' ? [request.tokens] : request.tokens;
}

/** Takes `cost` and returns the wait, computed as if SAFETY_MS of refill were still missing. */
function reserve(b: TokenBucket | undefined, cost: number, now: number): number {
  if (!b) return 0;
  const margin = b.ratePerMs * SAFETY_MS;
  const wait = b.reserve(cost + margin, now);
  b.adjust(margin, now);
  return wait;
}

function bucket(
  limit: number | undefined,
  limits: BudgetLimits,
  now: number,
  level?: number,
): TokenBucket | undefined {
  if (!limit) return undefined;
  return new TokenBucket(limit, limits.windowMs ?? MINUTE, now, Math.min(limit, level ?? limit));
}

/**
 * The server's word wins where it is lower: a smaller limit than configured (a mistaken budget), or less
 * left than the bucket believes by more than a tenth of the limit (another client sharing the key).
 */
function believeServer(
  current: TokenBucket | undefined,
  limit: number | undefined,
  remaining: number | undefined,
  now: number,
  what: string,
): TokenBucket | undefined {
  if (!current) return current;
  let b = current;
  if (limit !== undefined && limit > 0 && limit < b.capacity) {
    log.warn(`the API's ${what} limit is below the configured budget: using the API's`, {
      configured: b.capacity,
      api: limit,
    });
    b = new TokenBucket(limit, b.periodMs, now, Math.min(limit, b.available(now)));
  }
  if (remaining !== undefined && b.available(now) - remaining > b.capacity * 0.1) b.alignDown(remaining, now);
  return b;
}
