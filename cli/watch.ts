import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import type { JobProgress } from '../domain/job.js';
import type { JobHandle } from '../jobs/service.js';
import type { ClassifyJobResult } from '../workflows/definitions.js';
import { TemporalConnectionError, isUnavailable } from '../lib/temporal.js';
import { progressQuery } from '../workflows/definitions.js';
import { progressFraction, progressLine } from './format.js';

/**
 * Shows a job's progress until it ends: a live bar redrawn in place on a terminal, plain lines (every
 * tenth of the way, or every 15 s) when the output is a file or a pipe.
 */
export async function watchProgress(
  handle: WorkflowHandle,
  stream: NodeJS.WriteStream,
  done: Promise<unknown>,
): Promise<JobProgress | undefined> {
  const tty = stream.isTTY === true;
  let last: JobProgress | undefined;
  let lastDecile = -1;
  let lastPrint = 0;
  let finished = false;
  void done.finally(() => (finished = true)).catch(() => {});
  while (!finished) {
    try {
      last = await handle.query(progressQuery);
      if (tty) {
        stream.write(`\r\x1b[2K${progressLine(last, 24).slice(0, (stream.columns || 120) - 1)}`);
      } else {
        const decile = Math.floor(progressFraction(last) * 10);
        if (decile !== lastDecile || Date.now() - lastPrint > 15_000) {
          stream.write(`${progressLine(last, 20)}\n`);
          lastDecile = decile;
          lastPrint = Date.now();
        }
      }
    } catch {
      // No worker has answered the query yet (starting, or between runs): try again shortly.
    }
    await Promise.race([done.catch(() => {}), sleep(tty ? 400 : 1_000)]);
  }
  if (tty && last) stream.write('\n');
  return last;
}

/**
 * The job's result, waiting through a server that is out of reach for a while (the embedded one being
 * restarted, a cluster restarting): `result()` gives up after about 20 s of retries, so it is asked again.
 * After `patienceMs` without reaching the server it gives up, with a plain message.
 */
export async function waitForResult<T = ClassifyJobResult>(
  handle: Pick<JobHandle, 'workflowId'> & { result(): Promise<NoInfer<T>> },
  abandon: AbortSignal,
  patienceMs = 5 * 60_000,
): Promise<T> {
  let unreachableSince: number | undefined;
  for (;;) {
    const asked = Date.now();
    try {
      return await handle.result();
    } catch (error) {
      if (!isUnavailable(error) || abandon.aborted) throw error;
      // A call that lasted longer than its retries could have was answered for a while: a new outage.
      if (Date.now() - asked > 30_000) unreachableSince = undefined;
      unreachableSince ??= asked;
      if (Date.now() - unreachableSince > patienceMs) {
        throw new TemporalConnectionError(
          `lost the Temporal server for ${Math.round(patienceMs / 60_000)} min while waiting for job ` +
            `${handle.workflowId}; it keeps what is done: run the same command again to resume`,
        );
      }
      await sleep(1_000);
    }
  }
}
