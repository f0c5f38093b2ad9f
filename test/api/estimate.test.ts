import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CostEstimate } from '../../domain/cost.js';
import { priceFor } from '../../domain/prices.js';
import { testOptions } from '../helpers/options.js';
import type { FakeApi } from './helpers.js';
import { createFakeApi, exampleJob, filesUnder, patch, post } from './helpers.js';

let api: FakeApi;

beforeAll(async () => {
  api = await createFakeApi();
});
afterAll(async () => {
  await api?.close();
});

async function estimate(app: Pick<FakeApi, 'request'>, form: FormData): Promise<CostEstimate> {
  const response = await app.request('/jobs/estimate', post(form));
  const body = (await response.json()) as CostEstimate;
  if (response.status !== 200) throw new Error(`${response.status} ${JSON.stringify(body)}`);
  return body;
}

interface Problem {
  readonly status: number;
  readonly field?: string;
  readonly detail: string;
}

async function problemOf(response: Response): Promise<Problem> {
  return (await response.json()) as Problem;
}

describe('POST /jobs/estimate', () => {
  it('plans the example as a job would, prices it, and starts and keeps nothing', async () => {
    const e = await estimate(api, exampleJob({ batchSize: '25' }));
    // The example's answers to code, sent once each, 25 a request.
    expect(e.model).toBe('gpt-4o-mini');
    expect(e.answers).toBeGreaterThan(0);
    expect(e.answers).toBeLessThanOrEqual(e.rows);
    expect(e.requests).toBe(Math.ceil(e.answers / 25));
    expect(e.inputTokens).toBeGreaterThan(e.outputTokens);
    const price = priceFor('gpt-4o-mini');
    expect(e.cost.sync).toBeCloseTo(
      (e.inputTokens * (price?.input ?? 0) + e.outputTokens * (price?.output ?? 0)) / 1e6,
      12,
    );
    expect(e.cost.batch).toBeCloseTo((e.cost.sync ?? 0) / 2, 12);
    expect(e.priceSource).toContain(e.pricesAsOf);
    expect(api.jobs.created).toEqual([]);
    expect(await filesUnder(path.join(api.dataDir, 'uploads'))).toEqual([]);
  });

  it('sends fewer requests for larger batches, the same answers', async () => {
    const small = await estimate(api, exampleJob({ batchSize: '10' }));
    const large = await estimate(api, exampleJob({ batchSize: '50' }));
    expect(large.answers).toBe(small.answers);
    expect(large.requests).toBeLessThan(small.requests);
    // The instructions are sent once a request: fewer requests, fewer input tokens.
    expect(large.inputTokens).toBeLessThan(small.inputTokens);
  });

  it('says "cost unknown" (null) for a model without a price, never a guess', async () => {
    const e = await estimate(api, exampleJob({ model: 'llama-3-70b' }));
    expect(e.requests).toBeGreaterThan(0);
    expect(e.cost).toEqual({ sync: null, batch: null });
    expect(e.priceSource).toBeNull();
  });

  it('prices with OPENAI_PRICE_INPUT / OPENAI_PRICE_OUTPUT over the table, any model', async () => {
    const priced = api.makeApp({ defaults: testOptions({ prices: { input: 2, output: 8 } }) });
    for (const model of ['llama-3-70b', 'gpt-4o-mini']) {
      const e = await estimate(
        { request: async (p, init) => priced.request(p, init) },
        exampleJob({ model }),
      );
      expect(e.cost.sync).toBeCloseTo((e.inputTokens * 2 + e.outputTokens * 8) / 1e6, 12);
      expect(e.cost.batch).toBeCloseTo((e.inputTokens * 1 + e.outputTokens * 4) / 1e6, 12);
      expect(e.priceSource).toMatch(/OPENAI_PRICE_INPUT/);
    }
  });

  it('refuses what a job start refuses: a column the sheet does not have, a bad setting', async () => {
    const missing = await api.request('/jobs/estimate', post(exampleJob({ column: 'Nope' })));
    expect(missing.status).toBe(422);
    const bad = await api.request('/jobs/estimate', post(exampleJob({ batchSize: '0' })));
    expect(bad.status).toBe(400);
    expect((await problemOf(bad)).field).toBe('batchSize');
  });
});

describe('maxCost', () => {
  it('is refused at the start unless a positive number of dollars', async () => {
    for (const value of ['abc', '0', '-1', '2000000']) {
      const response = await api.request('/jobs', post(exampleJob({ maxCost: value })));
      expect(response.status, value).toBe(400);
      const problem = await problemOf(response);
      expect(problem.field, value).toBe('maxCost');
      expect(problem.detail, value).toContain('maxCost');
    }
    expect(api.jobs.created).toEqual([]);
  });

  it('is refused at the start for a model without a price (the cap could not be checked)', async () => {
    const response = await api.request(
      '/jobs',
      post(exampleJob({ maxCost: '5', model: 'llama-3-70b', force: 'true' })),
    );
    expect(response.status).toBe(400);
    const problem = await problemOf(response);
    expect(problem.field).toBe('maxCost');
    expect(problem.detail).toMatch(/OPENAI_PRICE_INPUT/);
  });

  it('is raised, lifted, or refused by PATCH /jobs/:id', async () => {
    api.jobs.put({ jobId: 'job-capped' });
    for (const [value, ok] of [
      [5, true],
      [null, true],
      [0, false],
      [-2, false],
      ['5', false],
      [true, false],
    ] as const) {
      const response = await api.request('/jobs/job-capped', patch({ maxCost: value }));
      expect(response.status, JSON.stringify(value)).toBe(ok ? 200 : 400);
      if (!ok) expect((await problemOf(response)).field, JSON.stringify(value)).toBe('maxCost');
    }
    expect(api.jobs.changes.get('job-capped')).toEqual(['maxCost 5', 'maxCost null']);
  });
});
