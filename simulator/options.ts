import { z } from 'zod';

/** Every knob but `host` and `port` can also be changed at runtime (`configure`, `POST /_sim/config`). */
export interface SimulatorOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Real milliseconds before an admitted request is answered: meanMs ± uniform jitterMs + perOutputTokenMs × output tokens. */
  latency?: { meanMs: number; jitterMs?: number; perOutputTokenMs?: number };
  /** 1 = real time. 0.05 → one budget "minute" lasts 3 s of real time. Budgets refill per scaled minute. */
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
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

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
  /** Only requests with an answer containing this text (case-insensitive), e.g. a "poison" answer. */
  match?: string;
  /** For 'hang': how long to hold the request before answering normally (default: until the client disconnects). */
  hangMs?: number;
}

const faultRuleSchema = z.strictObject({
  kind: z.enum(FAULT_KINDS),
  rate: z.number().min(0).max(1).optional(),
  count: z.number().int().min(0).optional(),
  after: z.number().int().min(0).optional(),
  match: z.string().min(1).optional(),
  hangMs: z.number().min(0).optional(),
});

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
