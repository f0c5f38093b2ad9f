import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import type { RateLimitReport } from '../domain/rate.js';
import type { Paced } from '../domain/rate.js';
import type {
  BudgetInput,
  BudgetLimits,
  BudgetObservation,
  ReserveRequest,
} from '../workflows/definitions.js';
import { budgetWorkflow } from '../workflows/budget.js';
import { MAX_RESERVATIONS_PER_UPDATE, budgetWorkflowId, reserveUpdate } from '../workflows/definitions.js';

/**
 * The request and token budget (OPENAI_RPM, OPENAI_TPM) shared by every worker of the LLM task queue.
 * A batch reserves one request and its estimated tokens before it sends, and waits the delay it is given.
 */
export interface Budget {
  /** The limits this budget paces (a limit it paces runs near empty by design). */
  readonly paced: Paced;
  /** Reserves one request and `tokens`; resolves to the milliseconds to wait before sending. */
  reserve(tokens: number): Promise<number>;
  /** What the API reported with a response, passed on with the next reservation. */
  observe(rateLimit: RateLimitReport): void;
  /**
   * Reconciles a reservation with the usage the API reported (what it charged: the prompt tokens it
   * counted plus the output ceiling). The difference goes back to (or comes out of) the bucket.
   */
  settle(reserved: number, charged: number): void;
}

export interface BudgetOptions {
  readonly client: Client;
  readonly limits: BudgetLimits;
  /** Where the budget workflow runs (the main task queue, with the job workflows). */
  readonly taskQueue: string;
  /** The LLM task queue the budget belongs to; names the budget workflow. */
  readonly llmTaskQueue: string;
}

/**
 * The budget lives in a workflow (`budgetWorkflow`), so that it is one for all worker processes and hosts,
 * durable, and visible in the Temporal UI. Reserving is an update-with-start: the first request starts it.
 * Temporal lets a workflow have 10 updates in flight, so a process never has more than one: the requests
 * that wait meanwhile go together in the next update, in order.
 */
export function createBudget(options: BudgetOptions): Budget | undefined {
  const { client, limits } = options;
  if (!limits.rpm && !limits.tpm) return undefined;
  const workflowId = budgetWorkflowId(options.llmTaskQueue);
  let observed: BudgetObservation | undefined;
  let refund = 0;
  const waiting: Waiting[] = [];
  let sending = false;

  const send = async (request: ReserveRequest): Promise<readonly number[]> => {
    // One id for every attempt: an attempt that reached the workflow but whose answer was lost is not
    // applied twice (the server de-duplicates update ids within a run).
    const updateId = randomUUID();
    for (let attempt = 1; ; attempt += 1) {
      try {
        const input: BudgetInput = { limits };
        const start = new WithStartWorkflowOperation(budgetWorkflow, {
          workflowId,
          taskQueue: options.taskQueue,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          staticSummary: `Request budget of ${options.llmTaskQueue}: ${limits.rpm ?? '∞'} RPM, ${limits.tpm ?? '∞'} TPM`,
        });
        const reservation = await client.workflow.executeUpdateWithStart(reserveUpdate, {
          args: [request],
          startWorkflowOperation: start,
          updateId,
        });
        return reservation.delaysMs;
      } catch (error) {
        // Between runs (continue-as-new), or more processes than the server's 10 updates in flight: ask
        // again shortly, at a jittered time so that the processes do not ask all at once again.
        if (attempt >= 8) throw error;
        await sleep(25 * 2 ** attempt * (0.5 + Math.random()));
      }
    }
  };

  const pump = async (): Promise<void> => {
    if (sending) return;
    sending = true;
    try {
      while (waiting.length > 0) {
        const batch = waiting.splice(0, MAX_RESERVATIONS_PER_UPDATE);
        const request: ReserveRequest = {
          limits,
          tokens: batch.map((w) => w.tokens),
          ...(observed ? { observed } : {}),
          ...(refund ? { refund } : {}),
        };
        observed = undefined;
        refund = 0;
        try {
          const delays = await send(request);
          batch.forEach((w, i) => w.resolve(delays[i] ?? 0));
        } catch (error) {
          refund += request.refund ?? 0; // not applied: keep it for the next reservation
          for (const w of batch) w.reject(error);
        }
      }
    } finally {
      sending = false;
    }
  };

  return {
    paced: { requests: limits.rpm !== undefined, tokens: limits.tpm !== undefined },
    reserve(tokens) {
      return new Promise<number>((resolve, reject) => {
        waiting.push({ tokens, resolve, reject });
        void pump();
      });
    },
    observe(rateLimit) {
      if (Object.keys(rateLimit).length > 0) observed = rateLimit;
    },
    settle(reserved, charged) {
      refund += reserved - charged;
    },
  };
}

interface Waiting {
  readonly tokens: number;
  resolve(delayMs: number): void;
  reject(error: unknown): void;
}
