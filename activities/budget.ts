import { WithStartWorkflowOperation } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import type { RateLimitReport } from '../domain/job.js';
import type { BudgetInput, BudgetLimits, BudgetObservation } from '../workflows/definitions.js';
import { BUDGET_WORKFLOW_TYPE, budgetWorkflowId, reserveUpdate } from '../workflows/definitions.js';

/**
 * The request and token budget (OPENAI_RPM, OPENAI_TPM) shared by every worker of the LLM task queue.
 * A batch reserves one request and its estimated tokens before it sends, and waits the delay it is given.
 */
export interface Budget {
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
 */
export function createBudget(options: BudgetOptions): Budget | undefined {
  const { client, limits } = options;
  if (!limits.rpm && !limits.tpm) return undefined;
  const workflowId = budgetWorkflowId(options.llmTaskQueue);
  let observed: BudgetObservation | undefined;
  let refund = 0;

  return {
    async reserve(tokens) {
      const request = { limits, tokens, ...(observed ? { observed } : {}), ...(refund ? { refund } : {}) };
      observed = undefined;
      refund = 0;
      for (let attempt = 1; ; attempt += 1) {
        try {
          const input: BudgetInput = { limits };
          const start = new WithStartWorkflowOperation(BUDGET_WORKFLOW_TYPE, {
            workflowId,
            taskQueue: options.taskQueue,
            args: [input],
            workflowIdConflictPolicy: 'USE_EXISTING',
            staticSummary: `Request budget of ${options.llmTaskQueue}: ${limits.rpm ?? '∞'} RPM, ${limits.tpm ?? '∞'} TPM`,
          });
          const reservation = await client.workflow.executeUpdateWithStart(reserveUpdate, {
            args: [request],
            startWorkflowOperation: start,
          });
          return reservation.delayMs;
        } catch (error) {
          // The budget workflow was between runs (continue-as-new) or too busy: ask again shortly.
          if (attempt >= 8) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
        }
      }
    },
    observe(rateLimit) {
      if (Object.keys(rateLimit).length > 0) observed = rateLimit;
    },
    settle(reserved, charged) {
      refund += reserved - charged;
    },
  };
}
