import type { Category } from '../domain/categories.js';
import type { CostEstimate } from '../domain/cost.js';
import type { JobOptions } from '../domain/job.js';
import type { SheetFormat } from '../domain/sheet-format.js';
import type { CodeframeDrafts } from '../jobs/codeframes.js';
import type { JobService } from '../jobs/service.js';
import type { Logger } from '../lib/logger.js';
import type { Preview } from '../sheets/index.js';

/** Reads the top of an uploaded workbook for the column picker (injected: Excel I/O lives in activities/). */
export type PreviewSheets = (input: {
  path: string;
  displayName: string;
  format: SheetFormat;
  sheet?: string;
  rows?: number;
}) => Promise<Preview>;

/** Plans a job on a stored upload and prices it, without calling the model (injected, as previews are). */
export type EstimateJob = (input: {
  path: string;
  fileName: string;
  format: SheetFormat;
  sheet?: string;
  column: string;
  goldColumn?: string;
  question?: string;
  categories: readonly Category[];
  options: JobOptions;
}) => Promise<CostEstimate>;

export interface AppDeps {
  /** Starting, finding and controlling jobs: the API reaches Temporal and the job store only through it. */
  readonly jobs: JobService;
  /** Codeframe drafts (`/codeframes`), likewise. */
  readonly codeframes: CodeframeDrafts;
  /** Where previews put their upload for the moment they are read. */
  readonly dataDir: string;
  /** For the links to the Temporal UI. */
  readonly namespace: string;
  readonly defaults: JobOptions;
  readonly preview: PreviewSheets;
  readonly estimate: EstimateJob;
  readonly maxUploadBytes: number;
  readonly apiToken?: string;
  readonly temporalUiUrl?: string;
  /**
   * Whether this process's worker codes with the built-in simulator (no OPENAI_API_KEY): the page warns
   * before a dry run. Unknown (left out) when the API runs without a worker.
   */
  readonly simulated?: boolean;
  readonly logger?: Logger;
  /** Aborted when the server shuts down: open event streams end, telling browsers to reconnect. */
  readonly shutdown?: AbortSignal;
  /** Open event streams, so shutdown can wait for them to drain. */
  readonly sse: { open: number };
  readonly progressIntervalMs?: number;
}
