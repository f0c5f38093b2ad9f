import OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import type { Category } from '../../domain/categories.js';
import type { CodingMode, PromptItem } from '../../domain/prompt.js';
import { SINGLE_LABEL, buildLabelSchema, buildMessages, maxCompletionTokens } from '../../domain/prompt.js';
import type { Simulator } from '../../simulator/index.js';

export const CATEGORIES: Category[] = [
  { name: 'Price', description: 'cost, too expensive; cheap' },
  { name: 'Service', description: 'staff, waiting time' },
  { name: 'Quality' },
];

export const ITEMS: PromptItem[] = [
  { id: '1', text: 'Way too expensive for what it is' },
  { id: '2', text: 'The staff were rude' },
  { id: '3', text: 'Great QUALITY, will buy again' },
  { id: '4', text: 'no comment' },
];

/** The real client, as verbatim configures it: one attempt, so every error surfaces as it is. */
export function clientFor(sim: Simulator, options: { apiKey?: string; timeout?: number } = {}): OpenAI {
  return new OpenAI({
    apiKey: options.apiKey ?? 'test',
    baseURL: sim.baseURL,
    maxRetries: 0,
    timeout: options.timeout ?? 5_000,
  });
}

/** A request as verbatim's classifyBatch builds it. */
export function codingRequest(
  items: readonly PromptItem[] = ITEMS,
  categories: readonly Category[] = CATEGORIES,
  mode: CodingMode = SINGLE_LABEL,
): ChatCompletionCreateParamsNonStreaming {
  return {
    model: 'gpt-4o-mini',
    messages: buildMessages('What could we do better?', categories, items, mode),
    response_format: { type: 'json_schema', json_schema: buildLabelSchema(categories, items, mode) },
    max_completion_tokens: maxCompletionTokens(categories, items.length, mode),
  };
}

/** The simulator's (and OpenAI's limiter's) prompt estimate: four characters a token. */
export function promptTokensOf(request: ChatCompletionCreateParamsNonStreaming): number {
  const chars = request.messages.reduce(
    (n, m) => n + (typeof m.content === 'string' ? m.content.length : 0),
    0,
  );
  return Math.ceil(chars / 4);
}

/** Runs `promise` and returns what it rejects with (fails if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

export const RATE_LIMIT_HEADERS = [
  'x-ratelimit-limit-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-requests',
  'x-ratelimit-reset-tokens',
] as const;
