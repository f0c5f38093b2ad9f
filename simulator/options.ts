import { z } from 'zod';

/** Every knob but `host` and `port` can also be changed at runtime (`configure`, `POST /_sim/config`). */
export interface SimulatorOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Real milliseconds before an admitted request is answered: meanMs ± uniform jitterMs + perOutputTokenMs × output tokens. */
  latency?: { meanMs: number; jitterMs?: number; perOutputTokenMs?: number };
  /**
   * 1 = real time. 0.05 → one budget "minute" lasts 3 s of real time. Budgets refill per scaled minute, and
   * every `batch` duration is multiplied by it too (0.001 → a 24 h completion window lasts 86.4 s).
   */
  timeScale?: number;
  /** Requests per (scaled) minute; undefined = report tier-5 limits and never enforce them. */
  rpm?: number;
  /** Tokens per (scaled) minute; undefined = report tier-5 limits and never enforce them. */
  tpm?: number;
  faults?: FaultRule[];
  /** Seeds the PRNG behind rate-based faults and jitter (default 1), so a run repeats given the same arrival order. */
  seed?: number;
  /** When set, any other bearer token gets 401 invalid_api_key. */
  apiKey?: string;
  /** Default true: report `cached_tokens` for a repeated system message of 1,024 tokens or more, as OpenAI does. */
  cachePrompts?: boolean;
  /** Default true: `x-ratelimit-*` headers on every response. false: none (some OpenAI answers carry none). */
  rateLimitHeaders?: boolean;
  /** The Batch API (`/v1/files`, `/v1/batches`): its timing, queue limit and faults. Replaced whole by `configure`. */
  batch?: BatchOptions;
  /**
   * Share of answers (0–1, default 0) coded wrong on purpose, chosen by a hash of the answer's text: the same
   * answers every run and in every request, so agreement figures can be checked exactly (`isWrongAnswer`).
   */
  wrongRate?: number;
  /**
   * How `usage` counts tokens: `chars` (default) four characters a token, the prompt's messages only; or
   * `tokenizer`, as OpenAI bills: gpt-4o-mini's tokenizer (o200k), each message's framing and the response
   * schema in the prompt. Tests of verbatim's token estimates use the second.
   */
  usage?: 'chars' | 'tokenizer';
  /**
   * A model's own share of wrong answers, by the request's `model`, in place of `wrongRate` (e.g. a review
   * model that is right more often: `{ "gpt-4.1": 0 }`). Its wrong answers are a subset of a model with a
   * higher rate's, since both are picked by the same hash.
   */
  modelWrongRates?: Record<string, number>;
  /** Keep every chat request's body (`requestBodies()`): for tests only, memory grows with the requests. */
  keepRequests?: boolean;
  /** The theme model of codeframe drafting (simulator/themes.ts). */
  themes?: ThemeOptions;
}

/** Knobs of the theme model that answers codeframe drafting's requests (simulator/themes.ts). */
export interface ThemeOptions {
  /** Probability that an extraction request reports a spurious one-off theme (default 0.3). */
  spuriousRate?: number;
  /**
   * Probability that a merge request with more themes than its target lumps the smallest into one
   * catch-all code ("Miscellaneous", "Other comments") even though told to leave them out (default 0).
   * Told nothing, it always does: a model asked for few codes and for every theme in one is tempted so.
   */
  catchAllRate?: number;
}

/**
 * Durations are simulated milliseconds, multiplied by `timeScale`; each batch keeps the timing it was created
 * with (`cancellingMs`: the one in force when it is cancelled). Naming `batch` in `configure` starts its
 * `faults` and `expire` counts afresh.
 */
export interface BatchOptions {
  /** Time a batch spends `validating` (default 5,000). */
  validatingMs?: number;
  /** Time per line `in_progress`: a batch's lines finish one after another, so `request_counts` grow (default 100). */
  lineMs?: number;
  /** Time `finalizing` after the last line (default 5,000). */
  finalizingMs?: number;
  /** Time `cancelling` before `cancelled` (default 5,000; OpenAI: up to 10 minutes). */
  cancellingMs?: number;
  /** A batch not finished this long after its creation expires (default 86,400,000: OpenAI's 24 h). */
  completionWindowMs?: number;
  /**
   * Tokens enqueued per model at one time: the estimates (chars / 4 + max tokens per line, as the TPM limiter
   * charges) of that model's `in_progress`, `finalizing` and `cancelling` batches. A batch that would pass it
   * fails with `token_limit_exceeded`. Undefined (the default): none enforced.
   */
  enqueuedTokenLimit?: number;
  /** Faults per line, picked as `faults` are: `server_error` (a 500 in the error file) or an output fault. */
  faults?: BatchFaultRule[];
  /**
   * The next `count` batches that pass validation (after skipping `after`) expire once `fraction` (default
   * 0.5) of their lines are done: those are in the output file, the rest in the error file as `batch_expired`.
   * Their `expires_at` moves to that moment.
   */
  expire?: { count: number; after?: number; fraction?: number };
}

export const FAULT_KINDS = [
  'rate_limit',
  'insufficient_quota',
  'server_error',
  'bad_gateway',
  'overloaded',
  'hang',
  'drop',
  'malformed_json',
  'missing_id',
  'extra_id',
  'bad_category',
  'refusal',
  'truncated',
  // Multi-code lists: more codes than the request allows, each code twice, none at all.
  'too_many_codes',
  'duplicate_codes',
  'empty_codes',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

/** The faults a batch line can meet: the rest concern a connection or the sync limits, which batch lines skip. */
export const BATCH_FAULT_KINDS = [
  'server_error',
  'malformed_json',
  'missing_id',
  'extra_id',
  'bad_category',
  'refusal',
  'truncated',
  'too_many_codes',
  'duplicate_codes',
  'empty_codes',
] as const satisfies readonly FaultKind[];

export type BatchFaultKind = (typeof BATCH_FAULT_KINDS)[number];

/**
 * Which requests get a fault. `after` and `count` pick a window of the matching requests that reach this rule
 * (rules are tried in order and the first that fires wins), `rate` thins it at random; with neither `count`
 * nor `rate` every matching request after `after` gets the fault.
 */
export interface FaultRule {
  kind: FaultKind;
  /** Probability per matching request (0..1). */
  rate?: number;
  /** Exactly the first `count` matching requests (after skipping `after`). */
  count?: number;
  /** Skip this many matching requests first (default 0). */
  after?: number;
  /**
   * Only requests with an answer containing this text (case-insensitive), e.g. a "poison" answer. The
   * multi-code list faults, `missing_id` and `bad_category` then spoil only the answers that contain it (without
   * `match`: every answer's list; the last id dropped; the first answer mislabelled): the rest of the request is
   * answered right, as a model that always trips on the same answers does.
   */
  match?: string;
  /** For 'hang': how long to hold the request before answering normally (default: until the client disconnects). */
  hangMs?: number;
}

export interface BatchFaultRule extends Omit<FaultRule, 'kind' | 'hangMs'> {
  kind: BatchFaultKind;
}

const faultRuleSchema = z.strictObject({
  kind: z.enum(FAULT_KINDS),
  rate: z.number().min(0).max(1).optional(),
  count: z.number().int().min(0).optional(),
  after: z.number().int().min(0).optional(),
  match: z.string().min(1).optional(),
  hangMs: z.number().min(0).optional(),
});

const batchSchema = z
  .strictObject({
    validatingMs: z.number().min(0),
    lineMs: z.number().min(0),
    finalizingMs: z.number().min(0),
    cancellingMs: z.number().min(0),
    completionWindowMs: z.number().positive(),
    enqueuedTokenLimit: z.number().int().positive(),
    faults: z.array(faultRuleSchema.omit({ hangMs: true }).extend({ kind: z.enum(BATCH_FAULT_KINDS) })),
    expire: z.strictObject({
      count: z.number().int().min(0),
      after: z.number().int().min(0).optional(),
      fraction: z.number().min(0).lt(1).optional(),
    }),
  })
  .partial();

const optionsSchema = z
  .strictObject({
    host: z.string().min(1),
    port: z.number().int().min(0).max(65_535),
    latency: z.strictObject({
      meanMs: z.number().min(0),
      jitterMs: z.number().min(0).optional(),
      perOutputTokenMs: z.number().min(0).optional(),
    }),
    timeScale: z.number().positive(),
    rpm: z.number().positive(),
    tpm: z.number().positive(),
    faults: z.array(faultRuleSchema),
    seed: z.number().int(),
    apiKey: z.string().min(1),
    cachePrompts: z.boolean(),
    rateLimitHeaders: z.boolean(),
    batch: batchSchema,
    wrongRate: z.number().min(0).max(1),
    usage: z.enum(['chars', 'tokenizer']),
    modelWrongRates: z.record(z.string().min(1), z.number().min(0).max(1)),
    keepRequests: z.boolean(),
    themes: z.strictObject({
      spuriousRate: z.number().min(0).max(1).optional(),
      catchAllRate: z.number().min(0).max(1).optional(),
    }),
  })
  .partial();

/**
 * Checks options or a patch of them, whether from code, the CLI or `POST /_sim/config`. A `null` (JSON's
 * way to say "unset", e.g. `{"rpm": null}` to lift a limit) becomes undefined; the key stays, so that
 * `configure` sees the knob was named.
 */
export function parseOptions(input: unknown): Partial<SimulatorOptions> {
  const withoutNulls =
    typeof input === 'object' && input !== null && !Array.isArray(input)
      ? Object.fromEntries(Object.entries(input).map(([key, value]) => [key, value ?? undefined]))
      : input;
  const result = optionsSchema.safeParse(withoutNulls);
  if (!result.success) throw new InvalidSimulatorOptionsError(z.prettifyError(result.error));
  return result.data;
}

export class InvalidSimulatorOptionsError extends Error {
  constructor(readonly problems: string) {
    super(`Invalid simulator options:\n${problems}`);
    this.name = 'InvalidSimulatorOptionsError';
  }
}
