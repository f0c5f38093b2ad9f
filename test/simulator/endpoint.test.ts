import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLlmEndpoint, requestLabels } from '../../activities/llm.js';
import { parseCategories } from '../../domain/categories.js';
import { buildLabelSchema, buildMessages, maxCompletionTokens } from '../../domain/prompt.js';
import type { Simulator } from '../../simulator/index.js';
import { startSimulator } from '../../simulator/index.js';

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ latency: { meanMs: 0 } });
});
afterAll(async () => {
  await sim?.close();
});

const categories = parseCategories('Price\nDelivery');
const items = [{ id: '1', text: 'too expensive' }];
const request = {
  model: 'gpt-4o-mini',
  temperature: 0.1,
  messages: buildMessages('Why?', categories, items),
  schema: buildLabelSchema(categories, items),
  maxCompletionTokens: maxCompletionTokens(categories, items.length),
};

describe('createLlmEndpoint: where the requests go', () => {
  it('with neither key nor base URL, the built-in simulator answers: a dry run', () => {
    const llm = createLlmEndpoint({
      apiKey: undefined,
      baseURL: undefined,
      timeoutMs: 5_000,
      simulatorBaseURL: sim.baseURL,
    });
    expect(llm).toMatchObject({ simulated: true, endpoint: sim.baseURL });
    expect(() => createLlmEndpoint({ apiKey: undefined, baseURL: undefined, timeoutMs: 5_000 })).toThrow(
      /no OPENAI_API_KEY and no simulator/,
    );
  });

  it('with a base URL and no key, that server answers (verbatim simulate, a local model server)', async () => {
    const other = await startSimulator({ latency: { meanMs: 0 } });
    try {
      const llm = createLlmEndpoint({
        apiKey: undefined,
        baseURL: other.baseURL,
        timeoutMs: 5_000,
        simulatorBaseURL: sim.baseURL,
      });
      expect(llm).toMatchObject({ simulated: false, endpoint: other.baseURL });
      sim.resetStats();
      const response = await requestLabels(llm, request);
      expect(other.stats().answered).toBe(1);
      expect(sim.stats().requests).toBe(0);
      // The simulator says it is one, whatever the configuration: the run is still marked simulated.
      expect(response.simulated).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('with a key, OpenAI (or the base URL) answers, and nothing says simulated unless the server does', async () => {
    expect(createLlmEndpoint({ apiKey: 'sk-test', baseURL: undefined, timeoutMs: 5_000 })).toMatchObject({
      simulated: false,
      endpoint: 'https://api.openai.com/v1',
    });
    const served = await new Promise<{ url: string; close: () => void }>((resolve) => {
      void import('node:http').then(({ createServer }) => {
        const server = createServer((_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              id: 'chatcmpl-1',
              object: 'chat.completion',
              created: 0,
              model: 'gpt-4o-mini',
              choices: [
                {
                  index: 0,
                  finish_reason: 'stop',
                  message: {
                    role: 'assistant',
                    content: '{"1":1}',
                    refusal: null,
                  },
                },
              ],
              usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
            }),
          );
        });
        server.listen(0, '127.0.0.1', () => {
          const address = server.address();
          const port = typeof address === 'object' && address ? address.port : 0;
          resolve({ url: `http://127.0.0.1:${port}/v1`, close: () => server.close() });
        });
      });
    });
    try {
      const llm = createLlmEndpoint({ apiKey: 'sk-test', baseURL: served.url, timeoutMs: 5_000 });
      const response = await requestLabels(llm, request);
      expect(response.simulated).toBe(false);
      expect(response.content).toBe('{"1":1}');
    } finally {
      served.close();
    }
  });
});
