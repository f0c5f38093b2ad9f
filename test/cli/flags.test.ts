import { describe, expect, it } from 'vitest';

import { classifyCommand } from '../../cli/classify.js';
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
    expect(message).not.toMatch(/BATCH_SIZE|PARALLEL_MAX_WORKERS|MAX_CODES/);
  });
});
