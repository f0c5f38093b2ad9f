import { afterEach, describe, expect, it, vi } from 'vitest';

import { classifyCommand } from '../../cli/classify.js';
import { UsageError } from '../../cli/errors.js';
import { ConfigError } from '../../lib/config.js';

describe('verbatim classify flags', () => {
  it('names the flags a person typed, every bad one at once, before anything starts', async () => {
    const run = classifyCommand([
      'examples/customer-survey.xlsx',
      '--column',
      'E2',
      '--categories',
      'Price; Delivery',
      '--batch-size',
      'abc',
      '--concurrency',
      '0',
      '--max-codes',
      'x',
      '--max-cost',
      'lots',
    ]);
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/--batch-size must be "auto" or a whole number from 1 to 200 \(got "abc"\)/);
    expect(message).toMatch(/--concurrency must be a whole number from 1 to 200 \(got "0"\)/);
    expect(message).toMatch(/--max-codes must be a whole number from 1 to 100 \(got "x"\)/);
    expect(message).toMatch(/--max-cost must be a number of dollars above 0/);
    expect(message).not.toMatch(/BATCH_SIZE|PARALLEL_MAX_WORKERS|MAX_CODES|MAX_COST/);
  });

  it('refuses --max-codes without --multi, as the API refuses maxCodes without multi', async () => {
    vi.stubEnv('MULTI_CODE', 'false');
    const args = ['examples/customer-survey.xlsx', '--column', 'E2', '--categories', 'Price; Delivery'];
    const error = await classifyCommand([...args, '--max-codes', '3', '--estimate']).then(
      () => undefined,
      (e: unknown) => e,
    );
    vi.unstubAllEnvs();
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(/--max-codes 3 applies only with --multi/);
    // With --multi it is taken (the estimate runs and starts nothing).
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await classifyCommand([...args, '--multi', '--max-codes', '3', '--estimate'])).toBe(0);
    } finally {
      write.mockRestore();
    }
  });

  /** The ConfigError's message for these flags after the example's file, column and categories. */
  async function refusal(...flags: string[]): Promise<string> {
    const args = ['examples/customer-survey.xlsx', '--column', 'E2', '--categories', 'Price; Delivery'];
    const error = await classifyCommand([...args, ...flags]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }

  it.each(['999', '0', '201'])(
    'names only the flag for a batch size out of range (--batch-size %s)',
    async (value) => {
      const message = await refusal('--batch-size', value);
      expect(message).toContain(
        `--batch-size must be "auto" or a whole number from 1 to 200 (got "${value}")`,
      );
      expect(message).not.toMatch(/BATCH_SIZE/);
    },
  );

  it('takes a negative number after a flag as its value, and refuses it with the range', async () => {
    const message = await refusal('--temperature', '-1');
    expect(message).toContain('--temperature must be a number from 0 to 2 (got "-1")');
    expect(message).not.toMatch(/ambiguous|OPENAI_TEMPERATURE/);
    expect(await refusal('--temperature', '-0.5', '--concurrency', '-3')).toMatch(
      /--temperature must be a number from 0 to 2 \(got "-0\.5"\)[^]*--concurrency must be a whole number from 1 to 200 \(got "-3"\)/,
    );
  });
});

describe('verbatim classify --estimate', () => {
  const example = ['examples/customer-survey.xlsx', '--column', 'E2', '--categories', 'Price; Delivery'];
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  /** What the command printed, and its exit code. */
  async function printed(args: string[]): Promise<{ code: number; text: string }> {
    let text = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      text += String(chunk);
      return true;
    });
    const code = await classifyCommand(args);
    vi.restoreAllMocks();
    return { code, text };
  }

  it('prints requests, tokens and both costs without starting anything; fewer requests for larger batches', async () => {
    const ten = await printed([...example, '--estimate', '--batch-size', '10']);
    expect(ten.code).toBe(0);
    const requests = Number(/Requests: +([\d,]+)/.exec(ten.text)?.[1]?.replace(/,/g, ''));
    const unique = Number(/\(([\d,]+) unique answers\)/.exec(ten.text)?.[1]?.replace(/,/g, ''));
    expect(requests).toBe(Math.ceil(unique / 10));
    expect(ten.text).toMatch(/Input tokens: +[\d,]+\n {2}Output tokens: +[\d,]+/);
    expect(ten.text).toMatch(
      /Cost: +\$[\d.]+ synchronous, \$[\d.]+ in Batch API mode \(OpenAI's price list of/,
    );
    expect(ten.text).toContain('no job started');
    const fifty = await printed([...example, '--estimate', '--batch-size', '50']);
    expect(Number(/Requests: +([\d,]+)/.exec(fifty.text)?.[1])).toBe(Math.ceil(unique / 50));
  });

  it('says "cost unknown" for a model without a price, and takes OPENAI_PRICE_* for it', async () => {
    const unknown = await printed([...example, '--estimate', '--model', 'llama-3-70b']);
    expect(unknown.text).toMatch(/Cost: +cost unknown: llama-3-70b is not in the price table/);
    vi.stubEnv('OPENAI_PRICE_INPUT', '1');
    vi.stubEnv('OPENAI_PRICE_OUTPUT', '2');
    const priced = await printed([...example, '--estimate', '--model', 'llama-3-70b']);
    const input = Number(/Input tokens: +([\d,]+)/.exec(priced.text)?.[1]?.replace(/,/g, ''));
    const output = Number(/Output tokens: +([\d,]+)/.exec(priced.text)?.[1]?.replace(/,/g, ''));
    const cost = Number(/Cost: +\$([\d.]+) synchronous/.exec(priced.text)?.[1]);
    expect(cost).toBeCloseTo((input * 1 + output * 2) / 1e6, 4);
    expect(priced.text).toContain('OPENAI_PRICE_INPUT / OPENAI_PRICE_OUTPUT');
  });

  it('refuses --max-cost for a model without a price, naming the flag', async () => {
    const error = await classifyCommand([...example, '--model', 'llama-3-70b', '--max-cost', '5']).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/^--max-cost: the model llama-3-70b has no price/);
  });
});
