/**
 * What a job costs: its tokens priced (synchronous requests and Batch API lines apart), the estimate made
 * before a run, and the spending cap's rule. One module, so that every mode of sending counts the same way.
 */
import type { Cost, ModelPrice, TokenCounts } from './prices.js';
import { PRICES_AS_OF, ZERO_COST, addCost, costOf, formatDollars } from './prices.js';

/** The tokens a job has been billed so far, by how they were sent. */
export interface JobTokens {
  readonly sync: TokenCounts;
  /** Batch API lines (half price); zero until the job sends any. */
  readonly batch: TokenCounts;
  /** Requests to the review model (the second opinion), synchronous, at that model's price. */
  readonly review: TokenCounts;
}

/** The token counters a job keeps (`JobCounters` has them), synchronous and Batch API apart. */
export interface TokenCounters {
  readonly promptTokens: number;
  readonly cachedTokens: number;
  readonly completionTokens: number;
  readonly batchPromptTokens: number;
  readonly batchCachedTokens: number;
  readonly batchCompletionTokens: number;
  readonly reviewPromptTokens: number;
  readonly reviewCachedTokens: number;
  readonly reviewCompletionTokens: number;
}

/** The counters' tokens, split by how they were sent. */
export function jobTokens(c: TokenCounters): JobTokens {
  return {
    sync: { prompt: c.promptTokens, cached: c.cachedTokens, completion: c.completionTokens },
    batch: { prompt: c.batchPromptTokens, cached: c.batchCachedTokens, completion: c.batchCompletionTokens },
    review: {
      prompt: c.reviewPromptTokens,
      cached: c.reviewCachedTokens,
      completion: c.reviewCompletionTokens,
    },
  };
}

/** The cost as progress, the API and the Run sheet show it. */
export interface JobCost {
  readonly currency: 'USD';
  /** Null when the model has no price (neither the table nor OPENAI_PRICE_*): "cost unknown", never a guess. */
  readonly total: number | null;
  readonly sync: Cost | null;
  readonly batch: Cost | null;
  /**
   * The review model's requests (the second opinion), at its own price; null when the job has sent it
   * nothing, or when that model has no price (then `total` is null too). Absent in results of jobs from
   * before review costs.
   */
  readonly review?: Cost | null;
  /** Where the prices come from (the dated table or the operator's settings); null when unknown. */
  readonly priceSource: string | null;
  /** MAX_COST: the job holds a request that would take it over this; null when there is no cap. */
  readonly maxCost: number | null;
  /** The job is holding its next request at the cap, waiting for a higher one (or a cancel). */
  readonly capReached: boolean;
  /** When held: what that request would cost at most. */
  readonly nextRequest: number | null;
}

export interface CapState {
  readonly maxCost: number | undefined;
  readonly capReached: boolean;
  readonly nextRequest: number | undefined;
}

const NO_CAP: CapState = { maxCost: undefined, capReached: false, nextRequest: undefined };

/** The prices a job's tokens are billed at: its model's, and the review model's when it has one. */
export interface JobPrices {
  readonly price?: ModelPrice | undefined;
  /** The review model's (REVIEW_MODEL) synchronous price; absent: no review model, or it has no price. */
  readonly reviewPrice?: ModelPrice | undefined;
}

export function jobCost(tokens: JobTokens, prices: JobPrices | undefined, cap: CapState = NO_CAP): JobCost {
  const capView = {
    maxCost: cap.maxCost ?? null,
    capReached: cap.capReached,
    nextRequest: cap.nextRequest ?? null,
  };
  const { price, reviewPrice } = prices ?? {};
  const reviewed = tokens.review.prompt + tokens.review.completion > 0;
  const review = reviewed && reviewPrice ? costOf(tokens.review, reviewPrice, 'sync') : null;
  const unknown = {
    currency: 'USD',
    total: null,
    sync: null,
    batch: null,
    review,
    priceSource: null,
  } as const;
  if (!price) return { ...unknown, ...capView };
  const sync = costOf(tokens.sync, price, 'sync');
  const batch = costOf(tokens.batch, price, 'batch');
  // Review tokens without a price for their model: the whole is unknown, never a guess.
  const total = reviewed && !review ? null : addCost(addCost(sync, batch), review ?? ZERO_COST).total;
  return { currency: 'USD', total, sync, batch, review, priceSource: price.source, ...capView };
}

/**
 * What the cap counts as spent: every part with a price (a part without one cannot be held either, and a
 * cap cannot be set on it); 0 when the job's model has none.
 */
export function spentSoFar(tokens: JobTokens, prices: JobPrices | undefined): number {
  const cost = jobCost(tokens, prices);
  return (cost.sync?.total ?? 0) + (cost.batch?.total ?? 0) + (cost.review?.total ?? 0);
}

/** `$0.0123`, or "cost unknown" for a model without a price. */
export function formatCost(total: number | null | undefined): string {
  return total === null || total === undefined ? 'cost unknown' : formatDollars(total);
}

/**
 * A job's cost in one phrase: its total; or, when only the review model has no price, what the first pass
 * cost and that the review's is unknown (`$0.0123 + review cost unknown`), rather than "cost unknown" for all.
 */
export function formatJobCost(cost: JobCost): string {
  if (cost.total !== null || !cost.sync) return formatCost(cost.total);
  return `${formatDollars(cost.sync.total + (cost.batch?.total ?? 0))} + review cost unknown`;
}

/**
 * The most a request can cost before it is sent: every prompt token uncached, and all the output it allows
 * (`max_completion_tokens`). Checking this against the cap means the cap holds whatever the model answers.
 */
export function requestCeiling(
  promptTokens: number,
  maxCompletionTokens: number,
  price: ModelPrice,
  mode: 'sync' | 'batch' = 'sync',
): number {
  return costOf({ prompt: promptTokens, cached: 0, completion: maxCompletionTokens }, price, mode).total;
}

/** Float sums of many small prices: a cap equal to the spend is not "over" it. */
const EPSILON = 1e-12;

/**
 * Whether a request may go: what was spent, plus the ceilings of the requests in flight, plus this one's,
 * stays within the cap. No cap (undefined) allows everything.
 */
/**
 * The spending cap as a part of the job that sends requests sees it (the batch files of Batch API mode, the
 * review's requests): each holds its next request by `withinCap` and says which it holds.
 */
export interface CostCap {
  /** The price its requests are charged at, fixed in the job's plan; absent: nothing can be held. */
  readonly price: ModelPrice | undefined;
  /** Dollars the job has spent so far, every part of it. */
  readonly spent: () => number;
  /** The cap now (an update may raise or lift it). */
  readonly maxCost: () => number | undefined;
  /** Told the ceiling of the request held at the cap, and undefined when none is. */
  readonly onHeld: (next: number | undefined) => void;
}

export function withinCap(
  spent: number,
  inFlight: number,
  next: number,
  maxCost: number | undefined,
): boolean {
  return maxCost === undefined || spent + inFlight + next <= maxCost + EPSILON;
}

/** A cap as people send it: a positive number of dollars, at most a million. */
export const MAX_COST_LIMIT = 1_000_000;

/** Why a cap is refused, or undefined when it is fine (the update's validator and the API say the same). */
export function maxCostProblem(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_COST_LIMIT) {
    return `maxCost must be a number of dollars above 0, at most ${MAX_COST_LIMIT.toLocaleString('en-US')} (got ${JSON.stringify(value)})`;
  }
  return undefined;
}

/**
 * Prompt tokens of a request as the API bills them: each message's tokens plus its framing (4), 3 for the
 * reply's priming, and the response schema, counted by the rule measured in openai-cookbook#2140: its JSON
 * without `required`, `additionalProperties` and `$schema`, plus 9. The tokenizer is passed in.
 */
export function billedPromptTokens(
  count: (text: string) => number,
  messages: ReadonlyArray<{ content: string }>,
  schema: unknown,
): number {
  let tokens = 3;
  for (const m of messages) tokens += count(m.content) + 4;
  return schema === undefined ? tokens : tokens + count(JSON.stringify(stripSchema(schema))) + 9;
}

function stripSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripSchema);
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key]) => key !== 'required' && key !== 'additionalProperties' && key !== '$schema')
      .map(([key, value]) => [key, stripSchema(value)]),
  );
}

/** What a job will cost, worked out before it runs, without calling the model. */
export interface CostEstimate {
  readonly model: string;
  /** Requests the job will send (one per batch, before any retry or salvage). */
  readonly requests: number;
  /** Rows to code and the unique answers sent for them. */
  readonly rows: number;
  readonly answers: number;
  readonly inputTokens: number;
  /** The expected answers' tokens (what is billed), not the ceilings asked for. */
  readonly outputTokens: number;
  /** Dollars; null when the model has no price ("cost unknown"). */
  readonly cost: { readonly sync: number | null; readonly batch: number | null };
  readonly priceSource: string | null;
  readonly pricesAsOf: string;
}

export function costEstimate(
  counts: Omit<CostEstimate, 'cost' | 'priceSource' | 'pricesAsOf'>,
  price: ModelPrice | undefined,
): CostEstimate {
  const tokens = { prompt: counts.inputTokens, cached: 0, completion: counts.outputTokens };
  return {
    ...counts,
    cost: price
      ? { sync: costOf(tokens, price, 'sync').total, batch: costOf(tokens, price, 'batch').total }
      : { sync: null, batch: null },
    priceSource: price?.source ?? null,
    pricesAsOf: PRICES_AS_OF,
  };
}
