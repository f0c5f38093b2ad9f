import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import type { TokenLogprob } from '../domain/confidence.js';
import type { ChatMessage, LabelSchema } from '../domain/prompt.js';
import { parseGoDuration } from '../domain/rate.js';
import type { RateLimitReport } from '../domain/rate.js';
import type { TokenUsage } from '../domain/job.js';
import { ModelOutputError } from '../domain/validate.js';
import { SIMULATOR_HEADER } from '../simulator/protocol.js';
import { withoutCredentials } from '../lib/urls.js';

/** Where the LLM requests go, and whether that is the built-in simulator (no API key, no base URL). */
export interface LlmEndpoint {
  readonly client: OpenAI;
  readonly simulated: boolean;
  /** The base URL, for the Run sheet and the logs (never the key, nor credentials in the URL). */
  readonly endpoint: string;
}

/**
 * One client per process. `maxRetries: 0`: Temporal's retry policy is the only retry loop (visible in
 * history, honouring Retry-After through `nextRetryDelay`); the timeout stays below the activity's.
 */
export function createLlmEndpoint(options: {
  apiKey: string | undefined;
  baseURL: string | undefined;
  timeoutMs: number;
  simulatorBaseURL?: string;
}): LlmEndpoint {
  // A base URL without a key is a server that needs none (`verbatim simulate`, a local model server).
  const simulated = !options.apiKey && !options.baseURL;
  const baseURL = options.baseURL ?? (simulated ? options.simulatorBaseURL : undefined);
  if (simulated && !baseURL) throw new Error('no OPENAI_API_KEY and no simulator to answer instead');
  const client = new OpenAI({
    apiKey: options.apiKey ?? 'no-key',
    ...(baseURL ? { baseURL } : {}),
    maxRetries: 0,
    timeout: options.timeoutMs,
  });
  return { client, simulated, endpoint: withoutCredentials(client.baseURL) };
}

export interface LabelRequest {
  readonly model: string;
  readonly temperature: number;
  readonly messages: readonly ChatMessage[];
  readonly schema: LabelSchema;
  readonly maxCompletionTokens: number;
  /** Requests sharing a prefix route to the same cache with the same key (see `promptCacheKey`). */
  readonly promptCacheKey?: string;
  /** Ask for the answer's token log-probabilities (for each answer's confidence). */
  readonly logprobs?: boolean;
  readonly signal?: AbortSignal;
}

/** Alternatives asked for at each token: enough to renormalise over the allowed category numbers. */
export const TOP_LOGPROBS = 5;

export interface LabelResponse {
  readonly content: string | null;
  readonly usage: TokenUsage;
  readonly latencyMs: number;
  readonly rateLimit: RateLimitReport;
  /** The answer came from verbatim's simulator (it says so in a header), not from a model. */
  readonly simulated: boolean;
  /** `choices[0].logprobs.content` when asked for and given. */
  readonly logprobs?: readonly TokenLogprob[];
}

/**
 * Whether a 400 is the model refusing `logprobs` (reasoning models do: "logprobs are not supported with
 * reasoning models"): the job then goes on without them, rather than failing every batch.
 */
export function refusesLogprobs(error: unknown): boolean {
  return error instanceof OpenAI.BadRequestError && mentionsLogprobs(error);
}

/** A 400's error (as thrown, or as a batch line's body carries it) is about `logprobs`. */
export function mentionsLogprobs(error: {
  readonly param?: string | null;
  readonly message?: string;
}): boolean {
  return (
    error.param === 'logprobs' || error.param === 'top_logprobs' || /logprobs/i.test(error.message ?? '')
  );
}

/**
 * The chat-completion body of a coding request: what the synchronous call sends, and what a Batch API line
 * carries as its `body`, so that both ask the model exactly the same thing.
 */
export function labelRequestBody(request: LabelRequest) {
  return {
    model: request.model,
    temperature: request.temperature,
    messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
    response_format: { type: 'json_schema' as const, json_schema: { ...request.schema } },
    max_completion_tokens: request.maxCompletionTokens,
    ...(request.promptCacheKey ? { prompt_cache_key: request.promptCacheKey } : {}),
    ...(request.logprobs ? { logprobs: true, top_logprobs: TOP_LOGPROBS } : {}),
  };
}

/** What a chat completion answered, however it came (a response, or a line of a batch's output file). */
export type CompletionReading = Omit<LabelResponse, 'latencyMs' | 'rateLimit' | 'simulated'>;

/** Reads a completion; throws `ModelOutputError` for a refusal or a cut-off answer (both retryable). */
export function readCompletion(data: OpenAI.ChatCompletion): CompletionReading {
  const choice = data.choices[0];
  if (choice?.message.refusal)
    throw new ModelOutputError('refusal', `model refused: ${choice.message.refusal}`);
  if (choice?.finish_reason === 'length') {
    throw new ModelOutputError('truncated', 'model output was cut off at the token limit');
  }
  return {
    content: choice?.message.content ?? null,
    usage: {
      prompt: data.usage?.prompt_tokens ?? 0,
      completion: data.usage?.completion_tokens ?? 0,
      cached: data.usage?.prompt_tokens_details?.cached_tokens ?? 0,
    },
    ...(choice?.logprobs?.content ? { logprobs: choice.logprobs.content } : {}),
  };
}

/** Sends one batch; throws `ModelOutputError` for a refusal or a cut-off answer (both retryable). */
export async function requestLabels(llm: LlmEndpoint, request: LabelRequest): Promise<LabelResponse> {
  const started = performance.now();
  const { data, response } = await llm.client.chat.completions
    .create(labelRequestBody(request), request.signal ? { signal: request.signal } : {})
    .withResponse();
  const latencyMs = performance.now() - started;
  return {
    ...readCompletion(data),
    latencyMs,
    rateLimit: readRateLimit(response.headers),
    simulated: response.headers.get(SIMULATOR_HEADER) === '1',
  };
}

export function readRateLimit(headers: Headers): RateLimitReport {
  const num = (name: string) => {
    const value = headers.get(name);
    if (value === null) return undefined;
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  };
  const report = {
    limitRequests: num('x-ratelimit-limit-requests'),
    remainingRequests: num('x-ratelimit-remaining-requests'),
    limitTokens: num('x-ratelimit-limit-tokens'),
    remainingTokens: num('x-ratelimit-remaining-tokens'),
  };
  // Some responses carry no rate-limit headers at all: report only what is there.
  return Object.fromEntries(Object.entries(report).filter(([, v]) => v !== undefined));
}

/**
 * How long the server asked us to wait after a 429, most precise source first: the message's
 * "try again in 644ms", then `retry-after-ms`, then `retry-after` (whole seconds).
 */
export function retryDelayMs(error: { message: string; headers?: Headers | undefined }): number | undefined {
  const match = /try again in (\d+(?:\.\d+)?(?:ms|s|m)(?:\d+(?:\.\d+)?(?:ms|s))?)/i.exec(error.message);
  const fromMessage = parseGoDuration(match?.[1]);
  if (fromMessage !== undefined) return fromMessage;
  const ms = Number(error.headers?.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const header = error.headers?.get('retry-after');
  if (header) {
    const seconds = Number(header);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(header);
    if (Number.isFinite(date)) return Math.max(0, date - Date.now());
  }
  return undefined;
}

export interface FailureContext {
  readonly attempt: number;
  readonly batch: number;
}

/** Details every failure carries to the workflow, which counts the calls a fallen-back batch cost. */
export interface FailureDetails {
  readonly attempt: number;
  readonly status?: number;
  /** Marked not retryable because it spent the last attempt over every run of the job, not by its kind. */
  readonly outOfRetries?: boolean;
}

/** The failure type of a model's answer unusable as a whole (what `WHOLE_ANSWER_ATTEMPTS` counts). */
export const MODEL_OUTPUT_FAILURE = 'ModelOutputError';

/**
 * The one place that maps LLM errors to Temporal failures. Retryable: 408, 409, 429 (rate), 5xx, timeouts,
 * dropped connections, unusable model output. Not: other 4xx, insufficient quota, a request larger than the
 * whole TPM budget. A 429's wait becomes `nextRetryDelay`.
 */
export function toActivityFailure(error: unknown, context: FailureContext): ApplicationFailure {
  const details = (status?: number): FailureDetails[] => [
    { attempt: context.attempt, ...(status ? { status } : {}) },
  ];
  if (error instanceof ModelOutputError) {
    return ApplicationFailure.create({
      type: MODEL_OUTPUT_FAILURE,
      message: error.message,
      details: details(),
    });
  }
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return ApplicationFailure.create({
      type: 'TimeoutError',
      message: 'the API did not answer in time',
      details: details(),
    });
  }
  if (error instanceof OpenAI.APIConnectionError) {
    return ApplicationFailure.create({
      type: 'ConnectionError',
      message: `connection failed: ${error.message}`,
      details: details(),
    });
  }
  if (error instanceof OpenAI.APIError && typeof error.status === 'number') {
    const status = error.status;
    // openai-node's message already starts with the status.
    const message = firstLine(error.message);
    const type = error.constructor.name === 'APIError' ? `HTTP${status}Error` : error.constructor.name;
    if (status === 429) {
      const quota = error.code === 'insufficient_quota' || error.type === 'insufficient_quota';
      const tooLarge = /request too large/i.test(error.message);
      if (quota || tooLarge) {
        return ApplicationFailure.create({
          type: quota ? 'InsufficientQuotaError' : 'RequestTooLargeError',
          message,
          nonRetryable: true,
          details: details(status),
        });
      }
      const wait = retryDelayMs(error);
      return ApplicationFailure.create({
        type: 'RateLimitError',
        message,
        details: details(status),
        // A little jitter so that batches told the same wait do not all return at the same instant.
        ...(wait !== undefined ? { nextRetryDelay: Math.ceil(wait * (1 + Math.random() * 0.1)) + 5 } : {}),
      });
    }
    const retryable = status === 408 || status === 409 || status >= 500;
    return ApplicationFailure.create({ type, message, nonRetryable: !retryable, details: details(status) });
  }
  if (error instanceof ApplicationFailure) return error;
  const e = error instanceof Error ? error : new Error(String(error));
  return ApplicationFailure.create({ type: e.name, message: e.message, details: details() });
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}
