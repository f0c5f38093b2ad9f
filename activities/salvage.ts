/** The end of a salvage: a batch's result assembled from its pieces (file work, on the main task queue). */
import { ApplicationFailure } from '@temporalio/common';
import type { SalvageOutcome, TokenUsage } from '../domain/job.js';
import type { FailedGroup } from '../domain/salvage.js';
import { mergePieces, pieceKey } from '../domain/salvage.js';
import type { ActivityDeps } from './deps.js';
import type { StoredBatch, StoredResult } from './stored.js';
import { readBatch, readPieces, readRows, assignmentsOf } from './stored.js';

export interface MergeBatchInput {
  readonly jobId: string;
  readonly index: number;
  /** Groups whose request ran out of retries (a transport failure): their answers fall back with the reason. */
  readonly failed?: readonly FailedGroup[];
}

export function salvageActivities(deps: ActivityDeps) {
  const { store } = deps;

  return {
    /**
     * Writes the batch's result from its first piece and the pieces of its halvings: every answer exactly
     * once, labelled or fallen back alone, in the format the output reads (labels by position; `fallbacks`).
     * Idempotent: the pieces never change, so a retry writes the same result.
     */
    mergeBatch: async ({ jobId, index, failed = [] }: MergeBatchInput): Promise<SalvageOutcome> => {
      const batch = await readBatch(store, jobId, index);
      const itemIds = batch.items.map((item) => item.id);
      const pieces = await readPieces(store, jobId, index);
      const root = pieces.get(pieceKey(itemIds));
      if (!root) {
        throw ApplicationFailure.create({
          type: 'SalvageIncompleteError',
          message: `batch ${index + 1}: no first piece to assemble its result from`,
          nonRetryable: true,
        });
      }
      const merged = mergePieces(itemIds, root, (ids) => pieces.get(pieceKey(ids)), failed);
      if (!merged.complete) {
        throw ApplicationFailure.create({
          type: 'SalvageIncompleteError',
          message: `batch ${index + 1}: answers ${merged.missing.map((g) => g.join(', ')).join('; ')} were never settled`,
          nonRetryable: true,
        });
      }
      // What the result records: every request of the salvage that the assembly used, the first one first.
      const used = [root, ...merged.used.flatMap((key) => pieces.get(key) ?? [])];
      const usage = used.reduce<TokenUsage>(
        (sum, p) => ({
          prompt: sum.prompt + p.usage.prompt,
          completion: sum.completion + p.usage.completion,
          cached: sum.cached + p.usage.cached,
        }),
        { prompt: 0, completion: 0, cached: 0 },
      );
      const cut = used.reduce((n, p) => n + (p.cut ?? 0), 0);
      const fallbacks = batch.items.flatMap((item, position) => {
        const reason = merged.fallbacks.get(item.id);
        return reason === undefined ? [] : [{ position, reason }];
      });
      const result: StoredResult = {
        index,
        labels: batch.items.map((item) => merged.labels.get(item.id) ?? []),
        ...(cut > 0 ? { cut } : {}),
        usage,
        latencyMs: used.reduce((n, p) => n + p.latencyMs, 0),
        attempt: root.attempt,
        model: root.model,
        ...(root.worker ? { worker: root.worker } : {}),
        ...(used.some((p) => p.simulated) ? { simulated: true as const } : {}),
        salvaged: true,
        ...(fallbacks.length > 0 ? { fallbacks } : {}),
      };
      await store.writeJson(store.resultFile(jobId, index), result);
      const positions = fallbacks.map((f) => f.position);
      return {
        index,
        rows: batch.rows,
        answersFallback: fallbacks.length,
        rowsFallback: await rowsOf(jobId, batch, positions),
        ...(fallbacks.length > 0 ? { fallbackKey: 'AnswerFellBackAlone' } : {}),
      };
    },
  };

  /** Sheet rows of the items at these positions: from the batch file, or for older jobs from rows.json. */
  async function rowsOf(jobId: string, batch: StoredBatch, positions: readonly number[]): Promise<number> {
    if (positions.length === 0) return 0;
    const { itemRows } = batch;
    if (itemRows) return positions.reduce((n, p) => n + (itemRows[p] ?? 0), 0);
    const answers = new Set(positions.map((p) => batch.answerIds[p]));
    const rows = await readRows(store, jobId);
    let count = 0;
    for (const [, kind, a] of assignmentsOf(rows)) if (kind === 'classify' && answers.has(a)) count += 1;
    return count;
  }
}
