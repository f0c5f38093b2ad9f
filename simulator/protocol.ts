import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { CodingRequest } from '../domain/prompt.js';
import { readCodingRequest } from '../domain/prompt.js';
import { readOriginalRequest } from './original-layout.js';

/** The one model `GET /v1/models` lists; chat completions accept any model name and echo it. */
export const MODEL_ID = 'gpt-4o-mini';

/**
 * Set on every response of the simulator: whatever the configuration said, answers that carry it are
 * recorded as simulated (the Run sheet and the stats say so).
 */
export const SIMULATOR_HEADER = 'x-verbatim-simulator';

/** OpenAI charges this much output up front when a request sets no `max_completion_tokens`/`max_tokens`. */
const DEFAULT_MAX_TOKENS = 4_096;

/** Prompt caching starts at 1,024 tokens and grows in steps of 128. */
const CACHE_MIN_TOKENS = 1_024;
const CACHE_STEP_TOKENS = 128;

export const REFUSAL = "I'm sorry, but I can't help with that.";

/** What a request without verbatim's label schema gets. */
export const PLAIN_ANSWER =
  'This is the verbatim simulator: send survey answers with a json_schema response format.';

/** The estimate OpenAI's limiter uses, and the simulator's whole tokenizer: four characters a token. */
export function tokensOf(chars: number): number {
  return Math.ceil(chars / 4);
}

/** What OpenAI's limiters charge a request up front: the prompt estimate plus all the output it allows. */
export function chargeOf(request: ChatRequest): number {
  return tokensOf(request.promptChars) + request.maxTokens;
}

/** A request for a coding, read by the wire module (domain/prompt.ts): categories, answers, mode. */
export type { CodingRequest } from '../domain/prompt.js';

export interface ChatRequest {
  readonly model: string;
  /** As sent; undefined when left out (OpenAI's default, 1, applies). */
  readonly temperature: number | undefined;
  readonly promptChars: number;
  /** Each message's text, in order (for usage counted with a tokenizer). */
  readonly messages: readonly string[];
  readonly maxTokens: number;
  /** The system messages' text (the cached prefix's length here). */
  readonly system: string;
  /** The response format's schema as sent (JSON text, '' for none): part of the cached prefix. */
  readonly schema: string;
  /** `prompt_cache_key`: routes requests that share a prefix to the same cache. */
  readonly cacheKey?: string;
  readonly coding?: CodingRequest;
  /** The coding came in the original tool's layout (the bench's baseline), and is answered in it. */
  readonly layout?: 'original';
  /** `logprobs: true`: the answer's tokens come with their log-probabilities. */
  readonly logprobs?: boolean;
}

export type ParsedChatRequest =
  | { readonly ok: true; readonly request: ChatRequest }
  | { readonly ok: false; readonly message: string; readonly param: string | null };

/** Models that refuse `logprobs` with a 400: the gpt-5 family and the o-series. */
const REASONING_MODEL = /^(gpt-5|o\d)/;

interface Message {
  readonly role: string;
  readonly text: string;
}

/** Validates a chat completion body as far as the simulator needs, with OpenAI's 400 messages. */
export function parseChatRequest(body: unknown): ParsedChatRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, message: 'The request body must be a JSON object.', param: null };
  }
  const {
    model,
    messages,
    stream,
    response_format,
    max_completion_tokens,
    max_tokens,
    temperature,
    prompt_cache_key,
    logprobs,
  } = body as Record<string, unknown>;
  if (typeof model !== 'string' || model === '') {
    return { ok: false, message: 'you must provide a model parameter', param: 'model' };
  }
  if (!Array.isArray(messages)) {
    return { ok: false, message: "Missing required parameter: 'messages'.", param: 'messages' };
  }
  if (messages.length === 0) {
    const message =
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.";
    return { ok: false, message, param: 'messages' };
  }
  if (stream === true) {
    return { ok: false, message: 'The simulator does not stream: leave `stream` unset.', param: 'stream' };
  }
  if (prompt_cache_key !== undefined && prompt_cache_key !== null && typeof prompt_cache_key !== 'string') {
    const message = `Invalid type for 'prompt_cache_key': expected a string, but got ${typeof prompt_cache_key} instead.`;
    return { ok: false, message, param: 'prompt_cache_key' };
  }
  if (logprobs === true && REASONING_MODEL.test(model)) {
    // As OpenAI answers for gpt-5-mini, gpt-5-nano and the o-series.
    return { ok: false, message: 'logprobs are not supported with reasoning models', param: 'logprobs' };
  }
  const texts = messages.map(readMessage).filter((m): m is Message => m !== undefined);
  if (texts.length < messages.length) {
    return { ok: false, message: 'Each message needs a string `role`.', param: 'messages' };
  }
  const system = texts
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => m.text)
    .join('\n');
  const format = response_format as { type?: unknown; json_schema?: { schema?: unknown } } | null | undefined;
  const request = {
    model,
    temperature: typeof temperature === 'number' ? temperature : undefined,
    promptChars: texts.reduce((sum, m) => sum + m.text.length, 0),
    messages: texts.map((m) => m.text),
    maxTokens:
      [max_completion_tokens, max_tokens].find((n): n is number => typeof n === 'number') ??
      DEFAULT_MAX_TOKENS,
    system,
    schema: format?.type === 'json_schema' ? (JSON.stringify(format.json_schema?.schema) ?? '') : '',
    ...(typeof prompt_cache_key === 'string' ? { cacheKey: prompt_cache_key } : {}),
    ...(logprobs === true ? { logprobs: true } : {}),
  };
  if (format?.type !== 'json_schema') return { ok: true, request };
  const user = texts.findLast((m) => m.role === 'user')?.text ?? '';
  const schema = format.json_schema?.schema;
  const coding = readCodingRequest(system, user, schema);
  const original = coding ? undefined : readOriginalRequest(system, user, schema);
  if (original) return { ok: true, request: { ...request, coding: original, layout: 'original' } };
  if (coding === undefined) {
    return {
      ok: false,
      message:
        "The simulator only answers verbatim's coding schema: an object keyed by answer id whose values refer to `$defs.c`, an enum of the category numbers 1…n (or a list of it), with the categories numbered 1…n in the instructions.",
      param: 'response_format',
    };
  }
  return { ok: true, request: { ...request, coding } };
}

function readMessage(message: unknown): Message | undefined {
  const { role, content } = (message ?? {}) as { role?: unknown; content?: unknown };
  if (typeof role !== 'string') return undefined;
  if (typeof content === 'string') return { role, text: content };
  // Content parts: only the text ones count.
  const parts = Array.isArray(content) ? (content as Array<{ text?: unknown } | null>) : [];
  return { role, text: parts.map((part) => (typeof part?.text === 'string' ? part.text : '')).join('') };
}

/**
 * Remembers prompt prefixes, so that a repeat of a long one reports cached tokens as OpenAI does. The prefix
 * is the response schema and the system messages: a request with another schema (another batch size) or
 * another `prompt_cache_key` (another cache machine) misses the first time. Only the system text counts
 * towards the cached tokens, as only it counts in the prompt tokens here.
 */
export class PromptCache {
  private readonly seen = new Set<string>();

  /** Tokens of the request's prefix served from the cache, then remembers it. */
  cachedTokens(request: Pick<ChatRequest, 'system' | 'schema' | 'cacheKey'>): number {
    const tokens = tokensOf(request.system.length);
    if (tokens < CACHE_MIN_TOKENS) return 0;
    const key = createHash('sha256')
      .update(`${request.cacheKey ?? ''}\u0000${request.schema}\u0000${request.system}`)
      .digest('hex');
    const hit = this.seen.has(key);
    this.seen.add(key);
    return hit ? Math.floor(tokens / CACHE_STEP_TOKENS) * CACHE_STEP_TOKENS : 0;
  }
}

export interface Usage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly cachedTokens: number;
}

export interface ModelReply {
  readonly content: string | null;
  readonly refusal: string | null;
  readonly finishReason: 'stop' | 'length';
  /** `choices[0].logprobs.content`, when the request asked for them. */
  readonly logprobs?: readonly SimulatedLogprob[];
}

export interface SimulatedLogprob {
  readonly token: string;
  readonly logprob: number;
  readonly bytes: number[];
  readonly top_logprobs: ReadonlyArray<{ token: string; logprob: number; bytes: number[] }>;
}

/** A complete `chat.completion` object, as the API returns it. */
export function chatCompletion(model: string, reply: ModelReply, usage: Usage): Record<string, unknown> {
  return {
    id: `chatcmpl-${randomBytes(15).toString('base64url')}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: reply.content, refusal: reply.refusal, annotations: [] },
        logprobs: reply.logprobs ? { content: reply.logprobs, refusal: null } : null,
        finish_reason: reply.finishReason,
      },
    ],
    usage: {
      prompt_tokens: usage.promptTokens,
      completion_tokens: usage.completionTokens,
      total_tokens: usage.promptTokens + usage.completionTokens,
      prompt_tokens_details: { cached_tokens: usage.cachedTokens, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    },
    service_tier: 'default',
    system_fingerprint: 'fp_simulator',
  };
}

export const BAD_JSON_MESSAGE =
  "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP " +
  'library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)';

export const SERVER_ERROR_MESSAGE =
  'The server had an error while processing your request. Sorry about that!';

export function errorBody(message: string, type: string, code: string | null, param: string | null = null) {
  return { error: { message, type, param, code } };
}

export const BAD_GATEWAY_HTML =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n' +
  '<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n';

/** Unix seconds of a `performance.now()` time, as OpenAI's objects state times. */
export function unixSeconds(at: number): number {
  return Math.floor((performance.timeOrigin + at) / 1000);
}

export function requestId(): string {
  return `req_${randomBytes(16).toString('hex')}`;
}
