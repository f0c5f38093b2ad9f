import { ServiceError } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { TemporalConnectionError } from '../../lib/temporal.js';
import { waitForResult } from '../../cli/watch.js';

/** How `result()` fails while the server is out of reach: the SDK's wrapper around a gRPC status 14. */
const unavailable = () =>
  new ServiceError('Failed to get Workflow execution history', {
    cause: Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 }),
  });

function handle(outcomes: Array<() => unknown>): WorkflowHandle & { calls: number } {
  const h = {
    workflowId: 'job-1',
    calls: 0,
    result: () => {
      const next = outcomes[Math.min(h.calls, outcomes.length - 1)];
      h.calls += 1;
      return Promise.resolve().then(next);
    },
  };
  return h as unknown as WorkflowHandle & { calls: number };
}

const fail = (error: Error) => () => {
  throw error;
};

describe('waitForResult', () => {
  it('asks again while the server is unreachable, and returns the result once it answers', async () => {
    const h = handle([fail(unavailable()), fail(unavailable()), () => 'coded']);
    expect(await waitForResult(h, new AbortController().signal)).toBe('coded');
    expect(h.calls).toBe(3);
  });

  it('passes any other failure on at once', async () => {
    const failure = new Error('the job failed');
    const h = handle([fail(failure)]);
    await expect(waitForResult(h, new AbortController().signal)).rejects.toBe(failure);
    expect(h.calls).toBe(1);
  });

  it('stops asking once abandoned (the command is stopping)', async () => {
    const abandon = new AbortController();
    abandon.abort();
    const h = handle([fail(unavailable())]);
    await expect(waitForResult(h, abandon.signal)).rejects.toBeInstanceOf(ServiceError);
    expect(h.calls).toBe(1);
  });

  it('gives up after its patience, with a plain message naming the job', async () => {
    const h = handle([fail(unavailable())]);
    const error = await waitForResult(h, new AbortController().signal, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemporalConnectionError);
    expect(String(error)).toMatch(/lost the Temporal server .* job job-1; .* run the same command again/);
  });
});
