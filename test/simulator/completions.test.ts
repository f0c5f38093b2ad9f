import { AuthenticationError, BadRequestError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeOriginal,
  originalMaxTokens,
  originalMessages,
  originalSchema,
} from '../../bench/original-layout.js';
import { batchConfidences } from '../../domain/confidence.js';
import { parseGoDuration } from '../../domain/rate.js';
import { isWrongAnswer } from '../../simulator/labels.js';
import { validateLabels } from '../../domain/validate.js';
import type { Simulator } from '../../simulator/index.js';
import { expectedLabel, startSimulator } from '../../simulator/index.js';
import {
  CATEGORIES,
  ITEMS,
  RATE_LIMIT_HEADERS,
  clientFor,
  codingRequest,
  promptTokensOf,
  rejectionOf,
} from './helpers.js';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());

describe('POST /v1/chat/completions', () => {
  it('answers a strict json_schema request with every id once and the expected labels', async () => {
    const completion = await clientFor(sim).chat.completions.create(codingRequest());
    const labels = validateLabels(completion.choices[0]?.message.content, ITEMS, CATEGORIES);
    expect(Object.fromEntries(labels.labels)).toEqual({
      '1': ['Price'],
      '2': ['Service'],
      '3': ['Quality'],
      '4': ['Other'],
    });
    for (const item of ITEMS)
      expect(labels.labels.get(item.id)).toEqual([expectedLabel(item.text, CATEGORIES)]);
  });

  it('returns a complete chat.completion object with usage counted at four characters a token', async () => {
    const request = codingRequest();
    const completion = await clientFor(sim).chat.completions.create({ ...request, model: 'my-model' });
    const promptTokens = promptTokensOf(request);
    const content = completion.choices[0]?.message.content ?? '';
    expect(completion).toMatchObject({
      id: expect.stringMatching(/^chatcmpl-/) as unknown,
      object: 'chat.completion',
      created: expect.any(Number) as unknown,
      model: 'my-model',
      choices: [
        { index: 0, message: { role: 'assistant', refusal: null }, finish_reason: 'stop', logprobs: null },
      ],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: Math.ceil(content.length / 4),
        total_tokens: promptTokens + Math.ceil(content.length / 4),
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
      system_fingerprint: expect.any(String) as unknown,
    });
  });

  it("answers the original tool's layout in kind, for the bench's cost baseline", async () => {
    const schema = originalSchema(CATEGORIES);
    const messages = originalMessages('What could we do better?', CATEGORIES, ITEMS);
    const completion = await clientFor(sim).chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      response_format: { type: 'json_schema', json_schema: { ...schema } },
      max_completion_tokens: originalMaxTokens(CATEGORIES, ITEMS.length),
    });
    const content = completion.choices[0]?.message.content ?? '';
    expect(Object.fromEntries(decodeOriginal(content) ?? [])).toEqual(
      Object.fromEntries(ITEMS.map((item) => [item.id, expectedLabel(item.text, CATEGORIES)])),
    );
    const chars = messages.reduce((n, m) => n + m.content.length, 0);
    expect(completion.usage).toMatchObject({
      prompt_tokens: Math.ceil(chars / 4),
      completion_tokens: Math.ceil(content.length / 4),
    });
  });

  it('gives log-probabilities when asked: sure of right answers, unsure of those wrongRate spoils', async () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ id: String(i + 1), text: `the price, take ${i}` }));
    sim.configure({ wrongRate: 0.3 });
    try {
      const completion = await clientFor(sim).chat.completions.create({
        ...codingRequest(many),
        logprobs: true,
        top_logprobs: 5,
      });
      const content = completion.choices[0]?.message.content ?? '';
      const tokens = completion.choices[0]?.logprobs?.content ?? [];
      expect(tokens.map((t) => t.token).join('')).toBe(content);
      const labels = validateLabels(content, many, CATEGORIES).labels;
      const confidence = batchConfidences({ content, tokens, items: many, categories: CATEGORIES, labels });
      many.forEach((item, i) => {
        const right = labels.get(item.id)?.[0] === expectedLabel(item.text, CATEGORIES);
        expect(right).toBe(!isWrongAnswer(item.text, 0.3));
        expect(confidence[i], item.text).toBeCloseTo(right ? 0.95 / 0.99 : 0.45 / 0.89, 4);
      });
      expect(confidence.some((c) => (c ?? 1) < 0.7)).toBe(true);
    } finally {
      sim.configure({ wrongRate: 0 });
    }
  });

  it('answers 400 to logprobs from a reasoning model, as OpenAI does', async () => {
    const error = await clientFor(sim)
      .chat.completions.create({ ...codingRequest(), model: 'gpt-5-mini', logprobs: true })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).param).toBe('logprobs');
  });

  it('is what chat.completions.parse expects', async () => {
    const completion = await clientFor(sim).chat.completions.parse(codingRequest(ITEMS.slice(0, 1)));
    expect(completion.choices[0]?.message.parsed).toEqual({ '1': 1 });
  });

  it('answers plain text when there is no json_schema', async () => {
    const completion = await clientFor(sim).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello' }],
    });
    expect(completion.choices[0]?.message.content).toMatch(/simulator/);
    expect(completion.choices[0]?.finish_reason).toBe('stop');
  });

  it('sends the rate-limit headers, a request id and the processing time on a 200', async () => {
    const { response } = await clientFor(sim).chat.completions.create(codingRequest()).withResponse();
    for (const name of RATE_LIMIT_HEADERS) expect(response.headers.get(name), name).not.toBeNull();
    // No budget configured: tier-5 limits, reported but never enforced.
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe('30000');
    expect(response.headers.get('x-ratelimit-limit-tokens')).toBe('150000000');
    // (A tier-5 bucket refills a request in 2 ms, so the request just taken may already be back.)
    for (const [name, limit] of [
      ['x-ratelimit-remaining-requests', 30_000],
      ['x-ratelimit-remaining-tokens', 150_000_000],
    ] as const) {
      expect(response.headers.get(name), name).toMatch(/^\d+$/);
      expect(Number(response.headers.get(name)), name).toBeLessThanOrEqual(limit);
    }
    expect(parseGoDuration(response.headers.get('x-ratelimit-reset-requests'))).toBeDefined();
    expect(parseGoDuration(response.headers.get('x-ratelimit-reset-tokens'))).toBeDefined();
    expect(response.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    expect(response.headers.get('openai-processing-ms')).toMatch(/^\d+$/);
  });

  it('rejects a request without a model or messages with 400 invalid_request_error, headers included', async () => {
    const client = clientFor(sim);
    const noModel = await rejectionOf(client.chat.completions.create({ messages: [] } as never));
    expect(noModel).toBeInstanceOf(BadRequestError);
    expect(noModel).toMatchObject({ status: 400, type: 'invalid_request_error', param: 'model' });
    const noMessages = await rejectionOf(client.chat.completions.create({ model: 'gpt-4o-mini' } as never));
    expect(noMessages).toMatchObject({ status: 400, type: 'invalid_request_error', param: 'messages' });
    const headers = (noMessages as BadRequestError).headers;
    for (const name of RATE_LIMIT_HEADERS) expect(headers.get(name), name).not.toBeNull();
    expect((noMessages as BadRequestError).requestID).toMatch(/^req_/);
  });

  it('rejects a json_schema that is not the label schema with 400 on response_format', async () => {
    const error = await rejectionOf(
      clientFor(sim).chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Hi' }],
        response_format: { type: 'json_schema', json_schema: { name: 'x', strict: true, schema: {} } },
      }),
    );
    expect(error).toMatchObject({ status: 400, param: 'response_format' });
  });

  it('reports cached tokens for a repeated system message of 1,024 tokens or more, in steps of 128', async () => {
    const many = Array.from({ length: 60 }, (_, i) => ({
      name: `Topic ${i}`,
      description: `a long description of topic number ${i}, with some padding words`,
    }));
    const request = codingRequest(ITEMS, many);
    const systemTokens = promptTokensOf({ ...request, messages: request.messages.slice(0, 1) });
    expect(systemTokens).toBeGreaterThanOrEqual(1_024);
    const client = clientFor(sim);
    const first = await client.chat.completions.create(request);
    const second = await client.chat.completions.create(request);
    expect(first.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
    expect(second.usage?.prompt_tokens_details?.cached_tokens).toBe(Math.floor(systemTokens / 128) * 128);

    // A short system message is never cached.
    await client.chat.completions.create(codingRequest());
    const short = await client.chat.completions.create(codingRequest());
    expect(short.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
  });

  it('keys the cache by prompt_cache_key and the schema as well: another key or batch size misses once', async () => {
    const many = Array.from({ length: 60 }, (_, i) => ({
      name: `Subject ${i}`,
      description: `a long description of subject number ${i}, with some padding words`,
    }));
    const client = clientFor(sim);
    const cached = async (items: typeof ITEMS, key: string) => {
      const completion = await client.chat.completions.create({
        ...codingRequest(items, many),
        prompt_cache_key: key,
      });
      return completion.usage?.prompt_tokens_details?.cached_tokens ?? 0;
    };
    sim.resetStats();
    expect(await cached(ITEMS, 'job-a-0')).toBe(0);
    expect(await cached(ITEMS, 'job-a-0')).toBeGreaterThan(0);
    // Another key: another machine, cold the first time.
    expect(await cached(ITEMS, 'job-a-1')).toBe(0);
    expect(await cached(ITEMS, 'job-a-1')).toBeGreaterThan(0);
    // Another batch size: another schema, so another prefix.
    expect(await cached(ITEMS.slice(1), 'job-a-0')).toBe(0);
    // Other answers of the same size share the prefix.
    const others = ITEMS.map((item) => ({ ...item, text: `${item.text} again` }));
    expect(await cached(others, 'job-a-0')).toBeGreaterThan(0);
    expect(sim.stats().byCacheKey).toEqual({ 'job-a-0': 4, 'job-a-1': 2 });

    const error = await rejectionOf(
      client.chat.completions.create({
        ...codingRequest(),
        prompt_cache_key: 7 as unknown as string,
      }),
    );
    expect(error).toMatchObject({ status: 400, param: 'prompt_cache_key' });
  });

  it('reports no cached tokens with cachePrompts: false', async () => {
    const uncached = await startSimulator({ cachePrompts: false });
    try {
      const request = codingRequest(ITEMS, [{ name: 'Long', description: 'x'.repeat(5_000) }]);
      await clientFor(uncached).chat.completions.create(request);
      const again = await clientFor(uncached).chat.completions.create(request);
      expect(again.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
    } finally {
      await uncached.close();
    }
  });

  it('lists one model', async () => {
    const models = await clientFor(sim).models.list();
    expect(models.data.map((m) => m.id)).toEqual(['gpt-4o-mini']);
  });
});

describe('apiKey', () => {
  it('answers 401 invalid_api_key to any other bearer token, with the rate-limit headers', async () => {
    const guarded = await startSimulator({ apiKey: 'right-key' });
    try {
      const error = await rejectionOf(
        clientFor(guarded, { apiKey: 'wrong-key' }).chat.completions.create(codingRequest()),
      );
      expect(error).toBeInstanceOf(AuthenticationError);
      expect(error).toMatchObject({ status: 401, code: 'invalid_api_key', type: 'invalid_request_error' });
      for (const name of RATE_LIMIT_HEADERS)
        expect((error as AuthenticationError).headers.get(name)).not.toBeNull();
      const ok = await clientFor(guarded, { apiKey: 'right-key' }).chat.completions.create(codingRequest());
      expect(ok.choices[0]?.message.content).toMatch(/^\{"1":\d,"2":\d,"3":\d,"4":\d\}$/);
      expect(guarded.stats().byStatus).toEqual({ '200': 1, '401': 1 });
    } finally {
      await guarded.close();
    }
  });
});
