/**
 * What a coded answer costs, in tokens and dollars, with the original tool's layout and with verbatim's:
 * the tokens as the simulator counts them (four characters a token, the figure the bench reports), and an
 * estimate of what OpenAI would bill, counted with gpt-4o-mini's own tokenizer (o200k) with the response
 * schema added to the prompt, as the API charges it. The simulator's four characters a token is fair to
 * prose but counts digit-dense JSON as half its real tokens, and it leaves the schema out: the second
 * figure keeps the comparison honest about both.
 */
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import OpenAI from 'openai';
import { itemLabels, mapLimit, readBatch, readResult } from '../activities/stored.js';
import type { Category } from '../domain/categories.js';
import type { JobPlan } from '../domain/job.js';
import type { CodingMode, PromptItem } from '../domain/prompt.js';
import { buildLabelSchema, buildMessages, categoryNumbers, encodeLabels } from '../domain/prompt.js';
import { billedPromptTokens } from '../domain/cost.js';
import type { Cost } from '../domain/prices.js';
import { costOf, priceFor } from '../domain/prices.js';
import type { JobStore } from '../lib/store.js';
import type { Bench } from './harness.js';
import {
  ORIGINAL_BATCH_SIZE,
  decodeOriginal,
  originalMaxTokens,
  originalMessages,
  originalSchema,
} from './original-layout.js';

export const COST_MODEL = 'gpt-4o-mini';

export interface TokenTally {
  readonly prompt: number;
  readonly cached: number;
  readonly completion: number;
}

/** Dollars per 1,000 coded answers at gpt-4o-mini's prices, synchronous or Batch API (half). */
export function dollarsPerThousand(
  tokens: TokenTally,
  answers: number,
  mode: 'sync' | 'batch' = 'sync',
): number {
  const price = priceFor(COST_MODEL);
  if (!price) throw new Error(`no price for ${COST_MODEL}`);
  const cost: Cost = costOf(tokens, price, mode);
  return (cost.total / Math.max(1, answers)) * 1_000;
}

/** A request's prompt and its answer, counted with the o200k tokenizer, the schema in the prompt. */
export function billedTokens(
  messages: ReadonlyArray<{ content: string }>,
  schema: unknown,
  completion: string,
): { prompt: number; completion: number } {
  return { prompt: billedPromptTokens(countTokens, messages, schema), completion: countTokens(completion) };
}

export interface LayoutRun {
  readonly requests: number;
  /** Answers coded: the rows with an answer, repeats included (what the dollars are divided by). */
  readonly answers: number;
  /** Distinct answers sent to the model (verbatim sends each once; the original layout every one). */
  readonly sent?: number;
  /** As the simulator counted them (its usage). */
  readonly tokens: TokenTally;
  /** As OpenAI would bill them (o200k, schema included): an estimate. */
  readonly billed: { readonly prompt: number; readonly completion: number };
}

/**
 * The original tool's way: ten answers a request, in its layout, straight through the openai client to the
 * simulator (no Temporal: nothing here is about orchestration), every answer checked against the rule.
 */
export async function runOriginalLayout(
  bench: Bench,
  texts: readonly string[],
  expected: readonly string[],
  categories: readonly Category[],
  question: string,
): Promise<LayoutRun> {
  const client = new OpenAI({
    apiKey: 'bench-key',
    baseURL: bench.sim.baseURL,
    maxRetries: 2,
    timeout: 60_000,
  });
  bench.sim.configure({ rpm: undefined, tpm: undefined, timeScale: 1, faults: [], latency: { meanMs: 0 } });
  bench.sim.resetStats();
  const batches = Math.ceil(texts.length / ORIGINAL_BATCH_SIZE);
  const billed = await mapLimit(batches, 10, async (b) => {
    const from = b * ORIGINAL_BATCH_SIZE;
    const items: PromptItem[] = texts
      .slice(from, from + ORIGINAL_BATCH_SIZE)
      .map((text, i) => ({ id: String(i + 1), text }));
    const messages = originalMessages(question, categories, items);
    const schema = originalSchema(categories);
    const completion = await client.chat.completions.create({
      model: COST_MODEL,
      temperature: 0.1,
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      response_format: { type: 'json_schema', json_schema: { ...schema } },
      max_completion_tokens: originalMaxTokens(categories, items.length),
    });
    const content = completion.choices[0]?.message.content ?? '';
    const labels = decodeOriginal(content);
    items.forEach((item, i) => {
      const got = labels?.get(item.id);
      if (got !== expected[from + i])
        throw new Error(
          `original layout, answer ${from + i + 1}: "${got}" instead of "${expected[from + i]}"`,
        );
    });
    return billedTokens(messages, schema.schema, content);
  });
  const stats = bench.sim.stats();
  return {
    requests: stats.requests,
    answers: texts.length,
    tokens: { prompt: stats.promptTokens, cached: stats.cachedTokens, completion: stats.completionTokens },
    billed: {
      prompt: billed.reduce((sum, t) => sum + t.prompt, 0),
      completion: billed.reduce((sum, t) => sum + t.completion, 0),
    },
  };
}

/**
 * What a finished verbatim job's requests would be billed (o200k, schema included), rebuilt from its stored
 * batches and results: the messages and schema each batch sent, and the answer that codes its labels.
 */
export async function billedJobTokens(
  store: JobStore,
  jobId: string,
  categories: readonly Category[],
  mode: CodingMode,
): Promise<{ prompt: number; completion: number }> {
  const plan = await store.readJson<JobPlan>(jobId, 'plan.json');
  const numbered = categoryNumbers(categories);
  const counts = await mapLimit(plan.batches, 8, async (i) => {
    const [batch, result] = await Promise.all([readBatch(store, jobId, i), readResult(store, jobId, i)]);
    if (!result || result.fallback) return { prompt: 0, completion: 0 };
    const answer = encodeLabels(
      batch.items.map((item, p) => ({ id: item.id, labels: itemLabels(result.labels, p) })),
      numbered,
      mode,
    );
    return billedTokens(
      buildMessages(plan.question, categories, batch.items, mode),
      buildLabelSchema(categories, batch.items, mode).schema,
      answer,
    );
  });
  return {
    prompt: counts.reduce((sum, t) => sum + t.prompt, 0),
    completion: counts.reduce((sum, t) => sum + t.completion, 0),
  };
}

/**
 * How many of the simulator's four-character tokens a real tokenizer finds in verbatim's compact answers:
 * the simulator's latency per output token is scaled by it, so that a batch's time follows its real output.
 */
export function compactOutputTokenRatio(
  expected: readonly string[],
  categories: readonly Category[],
): number {
  const numbered = categoryNumbers(categories);
  const answers = expected.slice(0, 100).map((label, i) => ({ id: String(i + 1), labels: [label] }));
  const content = encodeLabels(answers, numbered, { multi: false });
  return countTokens(content) / Math.ceil(content.length / 4);
}
