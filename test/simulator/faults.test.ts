import {
  APIConnectionError,
  APIConnectionTimeoutError,
  InternalServerError,
  LengthFinishReasonError,
  RateLimitError,
} from 'openai/error';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { decodeLabels } from '../../domain/prompt.js';
import type { ModelOutputProblem } from '../../domain/validate.js';
import { ModelOutputError, checkLabels, validateLabels } from '../../domain/validate.js';
import type { FaultKind, FaultRule, Simulator } from '../../simulator/index.js';
import { startSimulator } from '../../simulator/index.js';
import { CATEGORIES, ITEMS, clientFor, codingRequest, rejectionOf } from './helpers.js';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.configure({ faults: [] });
  sim.resetStats();
});

function inject(...faults: FaultRule[]): void {
  sim.configure({ faults });
}

/** What verbatim's validation makes of a 200's content. */
function problemOf(content: string | null | undefined): ModelOutputProblem | undefined {
  try {
    validateLabels(content, ITEMS, CATEGORIES);
    return undefined;
  } catch (error) {
    if (error instanceof ModelOutputError) return error.problem;
    throw error;
  }
}

describe('fault kinds, as the openai client sees them', () => {
  it('rate_limit: RateLimitError of type requests with retry-after', async () => {
    inject({ kind: 'rate_limit' });
    const error = await rejectionOf(clientFor(sim).chat.completions.create(codingRequest()));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, type: 'requests', code: 'rate_limit_exceeded' });
    expect((error as RateLimitError).headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  });

  it('insufficient_quota: RateLimitError with code insufficient_quota and no retry-after', async () => {
    inject({ kind: 'insufficient_quota' });
    const error = await rejectionOf(clientFor(sim).chat.completions.create(codingRequest()));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, type: 'insufficient_quota', code: 'insufficient_quota' });
    expect((error as RateLimitError).headers.get('retry-after')).toBeNull();
  });

  it.each([
    ['server_error', 500, 'server_error'],
    ['overloaded', 503, 'server_error'],
    ['bad_gateway', 502, undefined],
  ] as const)('%s: InternalServerError %i', async (kind, status, type) => {
    inject({ kind });
    const error = await rejectionOf(clientFor(sim).chat.completions.create(codingRequest()));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toMatchObject({ status, type });
    expect((error as InternalServerError).headers.get('x-ratelimit-limit-requests')).not.toBeNull();
    if (kind === 'bad_gateway')
      expect((error as InternalServerError).message).toContain('<h1>502 Bad Gateway</h1>');
  });

  it('drop: APIConnectionError, the connection closed without a response', async () => {
    inject({ kind: 'drop' });
    const error = await rejectionOf(clientFor(sim).chat.completions.create(codingRequest()));
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error).not.toBeInstanceOf(APIConnectionTimeoutError);
    expect(sim.stats().byStatus).toEqual({ drop: 1 });
  });

  it('hang: APIConnectionTimeoutError once the client times out', async () => {
    inject({ kind: 'hang' });
    const started = performance.now();
    const error = await rejectionOf(
      clientFor(sim, { timeout: 200 }).chat.completions.create(codingRequest()),
    );
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(195);
    await vi.waitFor(() => expect(sim.stats().byStatus).toEqual({ hang: 1 }));
    expect(sim.stats().inFlight).toBe(0);
  });

  it('hang with hangMs: holds the request, then answers normally', async () => {
    inject({ kind: 'hang', hangMs: 250 });
    const started = performance.now();
    const completion = await clientFor(sim).chat.completions.create(codingRequest());
    expect(performance.now() - started).toBeGreaterThanOrEqual(245);
    expect(problemOf(completion.choices[0]?.message.content)).toBeUndefined();
    expect(sim.stats()).toMatchObject({ byStatus: { '200': 1 }, faults: { hang: 1 }, answered: 1 });
  });

  it.each([
    ['malformed_json', 'malformed_json'],
    ['missing_id', 'missing_ids'],
    ['extra_id', 'extra_ids'],
    ['bad_category', 'unknown_category'],
  ] as const)('%s: a 200 whose coding fails validation with %s', async (kind, problem) => {
    inject({ kind });
    const completion = await clientFor(sim).chat.completions.create(codingRequest());
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(problemOf(completion.choices[0]?.message.content)).toBe(problem);
    expect(sim.stats()).toMatchObject({ byStatus: { '200': 1 }, faults: { [kind]: 1 }, answered: 0 });
  });

  it('refusal: content null and the refusal field set', async () => {
    inject({ kind: 'refusal' });
    const completion = await clientFor(sim).chat.completions.create(codingRequest());
    expect(completion.choices[0]?.message).toMatchObject({
      content: null,
      refusal: "I'm sorry, but I can't help with that.",
    });
  });

  it("truncated: finish_reason 'length' with cut content, which parse() rejects", async () => {
    inject({ kind: 'truncated', count: 1 });
    const completion = await clientFor(sim).chat.completions.create(codingRequest());
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(problemOf(completion.choices[0]?.message.content)).toBe('malformed_json');
    inject({ kind: 'truncated', count: 1 });
    const error = await rejectionOf(clientFor(sim).chat.completions.parse(codingRequest()));
    expect(error).toBeInstanceOf(LengthFinishReasonError);
  });

  it('leaves requests that are not codings alone with coding faults', async () => {
    inject({ kind: 'missing_id' });
    const completion = await clientFor(sim).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello' }],
    });
    expect(completion.choices[0]?.message.content).toMatch(/simulator/);
    expect(sim.stats().faults).toEqual({});
  });
});

/** Sends `n` requests one after another; returns 'ok' or the fault each one met. */
async function outcomes(n: number, items = ITEMS): Promise<string[]> {
  const client = clientFor(sim);
  const results: string[] = [];
  for (let i = 0; i < n; i++) {
    try {
      await client.chat.completions.create(codingRequest(items));
      results.push('ok');
    } catch (error) {
      results.push(String((error as { status?: number }).status));
    }
  }
  return results;
}

describe('fault rules', () => {
  it('count: exactly the first `count` matching requests after skipping `after`', async () => {
    inject({ kind: 'server_error', count: 2, after: 1 });
    expect(await outcomes(5)).toEqual(['ok', '500', '500', 'ok', 'ok']);
    expect(sim.stats().faults).toEqual({ server_error: 2 });
  });

  it('rate: about that share of requests, the same ones for the same seed', async () => {
    const runs: string[][] = [];
    for (let run = 0; run < 2; run++) {
      sim.configure({ seed: 7, faults: [{ kind: 'server_error', rate: 0.3 }] });
      runs.push(await outcomes(40));
    }
    const failures = runs[0]?.filter((o) => o === '500').length ?? 0;
    expect(failures).toBeGreaterThan(4);
    expect(failures).toBeLessThan(20);
    expect(runs[1]).toEqual(runs[0]);
  });

  it('match: only requests with an answer containing the text, in any case', async () => {
    inject({ kind: 'overloaded', match: 'poison' });
    const poisoned = [...ITEMS, { id: '5', text: 'this is POISON for the model' }];
    expect(await outcomes(2)).toEqual(['ok', 'ok']);
    expect(await outcomes(2, poisoned)).toEqual(['503', '503']);
  });

  it.each([
    ['missing_id', 'missing_ids'],
    ['bad_category', 'unknown_category'],
  ] as const)(
    '%s with match: only the matching answers are spoiled, in whatever request they come',
    async (kind, problem) => {
      inject({ kind, match: 'rude' });
      for (const items of [ITEMS, [ITEMS[3], ITEMS[1]], [ITEMS[1]]]) {
        const batch = items.filter((item) => item !== undefined);
        const completion = await clientFor(sim).chat.completions.create(codingRequest(batch));
        const check = checkLabels(completion.choices[0]?.message.content, batch, CATEGORIES);
        // Every other answer keeps its right label; the one with "rude" (id 2) alone has the problem.
        expect(check.problems.map((p) => [p.id, p.problem])).toEqual([['2', problem]]);
        expect([...check.labels.keys()]).toEqual(batch.map((i) => i.id).filter((id) => id !== '2'));
      }
      // A request without it is answered right.
      const clean = [ITEMS[0], ITEMS[2]].filter((item) => item !== undefined);
      const completion = await clientFor(sim).chat.completions.create(codingRequest(clean));
      expect(checkLabels(completion.choices[0]?.message.content, clean, CATEGORIES).problems).toEqual([]);
      expect(sim.stats().faults).toEqual({ [kind]: 3 });
    },
  );

  it('faultArrivals: the arrival time of each request that met a fault, among all arrivals', async () => {
    inject({ kind: 'server_error', match: 'poison' });
    const poisoned = [...ITEMS, { id: '5', text: 'this is POISON for the model' }];
    await outcomes(1);
    await outcomes(2, poisoned);
    await outcomes(1);
    const stats = sim.stats();
    expect(stats.faultArrivals).toEqual({ server_error: [stats.arrivals[1], stats.arrivals[2]] });
  });

  it('the first rule that fires wins; each rule counts the requests that reach it', async () => {
    inject({ kind: 'server_error', count: 1 }, { kind: 'bad_gateway', count: 1 });
    expect(await outcomes(3)).toEqual(['500', '502', 'ok']);
  });

  it.each<FaultKind>(['rate_limit', 'insufficient_quota', 'server_error', 'drop', 'refusal'])(
    'counts %s in the stats',
    async (kind) => {
      inject({ kind, count: 1 });
      await outcomes(2);
      expect(sim.stats().faults).toEqual({ [kind]: 1 });
      expect(sim.stats().requests).toBe(2);
    },
  );
});

describe('multi-code list faults', () => {
  const MULTI = { multi: true, maxCodes: 2 } as const;
  const items = [
    { id: '1', text: 'too expensive and the staff were rude' },
    { id: '2', text: 'great quality, TOOMANY' },
    { id: '3', text: 'nothing to say' },
  ];

  let last = '';
  /** Each id's labels as the simulator numbered them, before verbatim's rules. */
  async function lists(): Promise<Record<string, readonly string[]>> {
    const completion = await clientFor(sim).chat.completions.create(codingRequest(items, CATEGORIES, MULTI));
    last = completion.choices[0]?.message.content ?? '';
    return Object.fromEntries(decodeLabels(last, CATEGORIES, MULTI).map((l) => [l.id, l.labels]));
  }

  it('without a fault: every category mentioned, the fallback when none', async () => {
    expect(await lists()).toEqual({ '1': ['Price', 'Service'], '2': ['Quality'], '3': ['Other'] });
  });

  it('too_many_codes with match: only the matching answers get every other label after theirs', async () => {
    inject({ kind: 'too_many_codes', match: 'toomany' });
    expect(await lists()).toEqual({
      '1': ['Price', 'Service'],
      '2': ['Quality', 'Price', 'Service', 'Other'],
      '3': ['Other'],
    });
    const check = validateLabels(last, items, CATEGORIES, MULTI);
    expect(check.labels.get('2')).toEqual(['Price', 'Quality']);
    expect(check.cut).toEqual(['2']);
  });

  it('duplicate_codes and empty_codes spoil every answer when no match is given', async () => {
    inject({ kind: 'duplicate_codes', count: 1 }, { kind: 'empty_codes', count: 1 });
    expect(await lists()).toEqual({
      '1': ['Price', 'Service', 'Price', 'Service'],
      '2': ['Quality', 'Quality'],
      '3': ['Other', 'Other'],
    });
    expect(await lists()).toEqual({ '1': [], '2': [], '3': [] });
    // Still valid codings: the verbatim rules settle them.
    expect(sim.stats()).toMatchObject({ faults: { duplicate_codes: 1, empty_codes: 1 }, answered: 2 });
  });

  it('leave single-label requests alone', async () => {
    inject({ kind: 'empty_codes' });
    const completion = await clientFor(sim).chat.completions.create(codingRequest());
    expect(problemOf(completion.choices[0]?.message.content)).toBeUndefined();
    expect(sim.stats().faults).toEqual({});
  });
});

describe('close', () => {
  it('ends hanging requests', async () => {
    const own = await startSimulator({ faults: [{ kind: 'hang' }] });
    const pending = rejectionOf(clientFor(own, { timeout: 30_000 }).chat.completions.create(codingRequest()));
    await vi.waitFor(() => expect(own.stats().faults).toEqual({ hang: 1 }));
    await own.close();
    const error = await pending;
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error).not.toBeInstanceOf(APIConnectionTimeoutError);
    expect(own.stats()).toMatchObject({ byStatus: { hang: 1 }, inFlight: 0 });
  });
});
