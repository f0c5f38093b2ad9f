/**
 * The codeframe draft's public surface: the input and result of `buildCodeframeWorkflow` and its progress
 * query, for the job service (jobs/codeframes.ts), the CLI and the API. Re-exported by definitions.ts.
 */
import { defineQuery } from '@temporalio/workflow';
import type { CodeframeSummary } from '../domain/codeframe-file.js';
import type { CodeframeProgress, CodeframeSettings } from '../domain/codeframe-job.js';
import type { JobOptions } from '../domain/job.js';

export interface BuildCodeframeInput {
  /** The draft's id (`cf-…`): also its workflow id and the name of its folder in the store. */
  readonly codeframeId: string;
  readonly fileName: string;
  readonly column: string;
  readonly sheet?: string;
  readonly settings: CodeframeSettings;
  /** Model, temperature, window (maxWorkers), retries: as a coding job's. */
  readonly options: JobOptions;
  /** Whether verbatim's search attributes are registered on the namespace (the starter checks). */
  readonly searchAttributes: boolean;
}

/** The written draft (codes, nets, shares, coverage, what was folded) and the last progress. */
export type BuildCodeframeResult = CodeframeSummary & { readonly progress: CodeframeProgress };

export const codeframeProgressQuery = defineQuery<CodeframeProgress>('codeframeProgress');

/** Draft ids: `cf-` and 20 hex digits (content ids) or random base64url. */
export const CODEFRAME_ID_PREFIX = 'cf-';
