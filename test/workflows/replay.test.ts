import fs from 'node:fs/promises';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { workflowBundle } from '../helpers/temporal.js';

/**
 * Workflows that ran on older code must replay on this one, or a deploy strands the jobs and budgets that
 * were running: each fixture is the history of a run recorded with the commit its name says.
 */
const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/histories');

async function replay(file: string, workflowId: string): Promise<void> {
  // Saved as JSON.stringify(await handle.fetchHistory()); fromObject rebuilds the message. (The SDK's own
  // historyFromJSON trips over the second copy of protobufjs that npm installs under @temporalio/common.)
  const json: unknown = JSON.parse(await fs.readFile(path.join(FIXTURES, file), 'utf8'));
  const history = temporal.api.history.v1.History.fromObject(json as Record<string, unknown>);
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId);
}

describe('histories recorded with older code replay on this code', () => {
  it('a job whose last answers reported little remaining (before the window narrowed on it)', async () => {
    await expect(replay('classify-job-eb34ca4-low-remaining.json', 'job-replayed')).resolves.toBeUndefined();
  });

  // Recorded on 0aa9097 (before salvage and the hand-over of in-flight batches): 150 answers, 4 batches a run,
  // a window of 3, a batch whose server always fails (its fallback recorded), ids missing and a 429 on the way.
  it('the first run of a job that continued as new, draining its window before it handed over', async () => {
    await expect(
      replay('classify-job-0aa9097-continued-run1.json', 'job-continued'),
    ).resolves.toBeUndefined();
  });

  it('the last run of that job, started with the state the older code carried', async () => {
    await expect(
      replay('classify-job-0aa9097-continued-last.json', 'job-continued'),
    ).resolves.toBeUndefined();
  });

  // Recorded on 7d65543 (before Batch API files were held at the cost cap, and review requests priced and
  // held): 60 answers in Batch API mode, 3 files sent whole in one activity, a cap of $5, then a review model.
  it('a Batch API job with a cap and a review, its round sent whole (before files were held at the cap)', async () => {
    await expect(
      replay('classify-job-7d65543-batch-api-review.json', 'job-uloXIxmJlVpHR5Uv'),
    ).resolves.toBeUndefined();
  });

  it('a budget reserved one request at a time (before reservations went in lists)', async () => {
    await expect(replay('budget-eb34ca4.json', 'budget-replayed')).resolves.toBeUndefined();
  });
});
