import { InternalServerError, RateLimitError } from 'openai';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGoDuration } from '../../domain/rate.js';
import type { Simulator, SimulatorOptions } from '../../simulator/index.js';
import { startSimulator } from '../../simulator/index.js';
import { RATE_LIMIT_HEADERS, clientFor, codingRequest, promptTokensOf, rejectionOf } from './helpers.js';

let sim: Simulator | undefined;
afterEach(() => sim?.close());

async function start(options: SimulatorOptions): Promise<Simulator> {
  sim = await startSimulator(options);
  return sim;
}

/** The wait OpenAI states in a 429 message ("… Please try again in 644ms."), in ms. */
function statedWait(error: RateLimitError): number {
  const wait = parseGoDuration(/Please try again in (\S+)\. /.exec(error.message)?.[1]);
  if (wait === undefined) throw new Error(`no wait in: ${error.message}`);
  return wait;
}

describe('requests per minute', () => {
  // A budget minute of 3 s: one request refills every second.
  const options = { rpm: 3, timeScale: 0.05 };

  it('answers the (rpm+1)-th immediate request with 429 and a wait after which a request succeeds', async () => {
    const client = clientFor(await start(options));
    for (let i = 0; i < 3; i++) await client.chat.completions.create(codingRequest());

    const error = await rejectionOf(client.chat.completions.create(codingRequest()));
    expect(error).toBeInstanceOf(RateLimitError);
    const limited = error as RateLimitError;
    expect(limited).toMatchObject({ status: 429, type: 'requests', code: 'rate_limit_exceeded' });
    expect(limited.message).toMatch(
      /^429 Rate limit reached for gpt-4o-mini in organization org-sim on requests per min \(RPM\): Limit 3, Used 3, Requested 1\. Please try again in \d+ms\./,
    );
    for (const name of RATE_LIMIT_HEADERS) expect(limited.headers.get(name), name).not.toBeNull();
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    const reset = parseGoDuration(limited.headers.get('x-ratelimit-reset-requests'));
    expect(reset).toBeGreaterThan(2_000);
    expect(reset).toBeLessThanOrEqual(3_000);
    const wait = statedWait(limited);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(1_000);

    // A rejected request takes nothing: the next one is told the same wait, not one more request's worth.
    const again = (await rejectionOf(client.chat.completions.create(codingRequest()))) as RateLimitError;
    expect(statedWait(again)).toBeLessThanOrEqual(wait);

    await sleep(statedWait(again));
    await expect(client.chat.completions.create(codingRequest())).resolves.toBeDefined();
    const stats = sim?.stats();
    expect(stats?.byStatus).toEqual({ '200': 4, '429': 2 });
    expect(stats?.admitted).toHaveLength(4);
    expect(stats?.arrivals).toHaveLength(6);
  });

  it('counts requests that fail after admission against the budget', async () => {
    const client = clientFor(
      await start({ ...options, rpm: 2, faults: [{ kind: 'server_error', count: 1 }] }),
    );
    expect(await rejectionOf(client.chat.completions.create(codingRequest()))).toBeInstanceOf(
      InternalServerError,
    );
    await client.chat.completions.create(codingRequest());
    expect(await rejectionOf(client.chat.completions.create(codingRequest()))).toBeInstanceOf(RateLimitError);
  });

  it('refills the buckets when configure names a budget', async () => {
    const simulator = await start(options);
    const client = clientFor(simulator);
    for (let i = 0; i < 3; i++) await client.chat.completions.create(codingRequest());
    expect(await rejectionOf(client.chat.completions.create(codingRequest()))).toBeInstanceOf(RateLimitError);
    simulator.configure({ rpm: 3 });
    await expect(client.chat.completions.create(codingRequest())).resolves.toBeDefined();
    simulator.configure({ rpm: undefined });
    const { response } = await client.chat.completions.create(codingRequest()).withResponse();
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe('30000');
  });
});

describe('responses without rate-limit headers', () => {
  it('leaves out every x-ratelimit-* header, still enforcing the budget and stating the wait', async () => {
    const client = clientFor(await start({ rpm: 1, timeScale: 0.05, rateLimitHeaders: false }));
    const { response } = await client.chat.completions.create(codingRequest()).withResponse();
    for (const name of RATE_LIMIT_HEADERS) expect(response.headers.get(name), name).toBeNull();
    const limited = (await rejectionOf(client.chat.completions.create(codingRequest()))) as RateLimitError;
    expect(limited).toBeInstanceOf(RateLimitError);
    for (const name of RATE_LIMIT_HEADERS) expect(limited.headers.get(name), name).toBeNull();
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(statedWait(limited)).toBeGreaterThan(0);
  });
});

describe('tokens per minute', () => {
  it('charges the prompt estimate plus max tokens at arrival and rejects what does not fit', async () => {
    const client = clientFor(await start({ tpm: 2_000, timeScale: 0.1 }));
    const request = codingRequest();
    const promptTokens = promptTokensOf(request);
    const big = { ...request, max_completion_tokens: 1_200 };

    const { response } = await client.chat.completions.create(big).withResponse();
    const remaining = Number(response.headers.get('x-ratelimit-remaining-tokens'));
    expect(remaining).toBeLessThanOrEqual(2_000 - promptTokens - 1_200 + 10); // + the refill since

    const error = (await rejectionOf(client.chat.completions.create(big))) as RateLimitError;
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, type: 'tokens', code: 'rate_limit_exceeded' });
    expect(error.message).toContain(`on tokens per min (TPM): Limit 2000, Used `);
    expect(error.message).toContain(`Requested ${promptTokens + 1_200}.`);
    expect(Number(error.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Nothing was taken for the rejected request.
    expect(Number(error.headers.get('x-ratelimit-remaining-tokens'))).toBeGreaterThanOrEqual(remaining);

    // A smaller request still fits.
    await expect(
      client.chat.completions.create({ ...request, max_completion_tokens: 100 }),
    ).resolves.toBeDefined();
    expect(sim?.stats().chargedTokens).toBe(promptTokens + 1_200 + promptTokens + 100);
  });

  it('answers a request larger than the whole budget with "Request too large", never admitting it', async () => {
    const simulator = await start({ tpm: 2_000 });
    const error = (await rejectionOf(
      clientFor(simulator).chat.completions.create({ ...codingRequest(), max_completion_tokens: 5_000 }),
    )) as RateLimitError;
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ type: 'tokens', code: 'rate_limit_exceeded' });
    expect(error.message).toMatch(
      /^429 Request too large for gpt-4o-mini in organization org-sim on tokens per min/,
    );
    expect(error.headers.get('x-ratelimit-remaining-tokens')).toBe('2000');
    expect(simulator.stats().admitted).toEqual([]);
  });

  it('charges 4096 output tokens when the request sets no maximum', async () => {
    const simulator = await start({});
    const request = codingRequest();
    delete request.max_completion_tokens;
    await clientFor(simulator).chat.completions.create(request);
    const promptTokens = promptTokensOf(request);
    expect(simulator.stats().chargedTokens).toBe(promptTokens + 4_096);
  });
});
