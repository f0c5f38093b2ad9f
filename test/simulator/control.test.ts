import { InternalServerError } from 'openai';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import type { Simulator, SimulatorOptions } from '../../simulator/index.js';
import { startSimulator } from '../../simulator/index.js';
import { ITEMS, clientFor, codingRequest, promptTokensOf, rejectionOf } from './helpers.js';

let sim: Simulator | undefined;
afterEach(() => sim?.close());

async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  sim = await startSimulator(options);
  return sim;
}

async function timed<T>(promise: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await promise;
  return { value, ms: performance.now() - started };
}

describe('latency', () => {
  it('holds each answer at least meanMs − jitterMs', async () => {
    const client = clientFor(await start({ latency: { meanMs: 150, jitterMs: 50 } }));
    for (let i = 0; i < 3; i++) {
      const { ms } = await timed(client.chat.completions.create(codingRequest()));
      expect(ms).toBeGreaterThanOrEqual(99);
    }
  });

  it('adds perOutputTokenMs for every output token', async () => {
    const client = clientFor(await start({ latency: { meanMs: 20, perOutputTokenMs: 10 } }));
    // Twenty answers: the compact answer format is short, and the per-token part must dominate the mean.
    const items = Array.from({ length: 20 }, (_, i) => ({ id: String(i + 1), text: `answer ${i}` }));
    const { value, ms } = await timed(client.chat.completions.create(codingRequest(items)));
    const outputTokens = value.usage?.completion_tokens ?? 0;
    expect(outputTokens).toBeGreaterThan(10);
    expect(ms).toBeGreaterThanOrEqual(20 + outputTokens * 10 - 1);
  });

  it('delays server errors too', async () => {
    const client = clientFor(await start({ latency: { meanMs: 120 }, faults: [{ kind: 'server_error' }] }));
    const started = performance.now();
    expect(await rejectionOf(client.chat.completions.create(codingRequest()))).toBeInstanceOf(
      InternalServerError,
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(119);
  });
});

describe('stats', () => {
  it('counts requests, outcomes, labels, tokens, concurrency and arrivals', async () => {
    const simulator = await start({ latency: { meanMs: 100 }, rpm: 4 });
    const client = clientFor(simulator);
    const request = codingRequest();
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => client.chat.completions.create(request)),
    );
    expect(results.map((r) => r.status).sort()).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
    ]);
    const completion = results.find((r) => r.status === 'fulfilled')?.value;

    const stats = simulator.stats();
    expect(stats).toMatchObject({
      requests: 5,
      byStatus: { '200': 4, '429': 1 },
      faults: {},
      answered: 4,
      answersLabelled: 4 * ITEMS.length,
      promptTokens: 4 * promptTokensOf(request),
      completionTokens: 4 * (completion?.usage?.completion_tokens ?? NaN),
      cachedTokens: 0,
      chargedTokens: 4 * (promptTokensOf(request) + (request.max_completion_tokens ?? 0)),
      inFlight: 0,
      maxInFlight: 5,
    });
    expect(stats.arrivals).toHaveLength(5);
    expect(stats.arrivals).toEqual([...stats.arrivals].sort((a, b) => a - b));
    expect(stats.admitted).toHaveLength(4);
    for (const at of stats.admitted) expect(stats.arrivals).toContain(at);
  });

  it('returns a copy, and resetStats starts afresh', async () => {
    const simulator = await start();
    await clientFor(simulator).chat.completions.create(codingRequest());
    const before = simulator.stats();
    before.arrivals.push(123);
    expect(simulator.stats().arrivals).toHaveLength(1);
    simulator.resetStats();
    expect(simulator.stats()).toMatchObject({ requests: 0, byStatus: {}, arrivals: [], answered: 0 });
  });
});

describe('control endpoints', () => {
  it('GET /_sim/stats, POST /_sim/reset', async () => {
    const simulator = await start();
    await clientFor(simulator).chat.completions.create(codingRequest());
    const response = await fetch(`${simulator.url}/_sim/stats`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(simulator.stats());

    expect((await fetch(`${simulator.url}/_sim/reset`, { method: 'POST' })).status).toBe(204);
    expect(simulator.stats().requests).toBe(0);
  });

  it('POST /_sim/config changes faults and budgets; null lifts a budget', async () => {
    const simulator = await start();
    const client = clientFor(simulator);
    const config = (patch: unknown) =>
      fetch(`${simulator.url}/_sim/config`, { method: 'POST', body: JSON.stringify(patch) });

    expect((await config({ faults: [{ kind: 'server_error', count: 1 }], rpm: 1 })).status).toBe(204);
    expect(await rejectionOf(client.chat.completions.create(codingRequest()))).toBeInstanceOf(
      InternalServerError,
    );
    expect(await rejectionOf(client.chat.completions.create(codingRequest()))).toMatchObject({ status: 429 });

    expect((await config({ rpm: null })).status).toBe(204);
    const { response } = await client.chat.completions.create(codingRequest()).withResponse();
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe('30000');
  });

  it('rejects a bad config with 400 naming the problem, and changes nothing', async () => {
    const simulator = await start();
    const response = await fetch(`${simulator.url}/_sim/config`, {
      method: 'POST',
      body: JSON.stringify({ faults: [{ kind: 'server_error', rate: 2 }] }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(
      /faults\[0\]\.rate/,
    );
    expect((await fetch(`${simulator.url}/_sim/config`, { method: 'POST', body: '{' })).status).toBe(400);
    await expect(clientFor(simulator).chat.completions.create(codingRequest())).resolves.toBeDefined();
  });

  it('answers unknown paths with 404', async () => {
    const simulator = await start();
    expect((await fetch(`${simulator.url}/_sim/nope`)).status).toBe(404);
    const response = await fetch(`${simulator.url}/v1/nope`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });
});
