import type { Client } from '@temporalio/client';
import type { JobOptions } from '../domain/job.js';
import type { SheetFormat } from '../domain/sheet-format.js';
import type { JobService } from '../jobs/service.js';
import type { Logger } from '../lib/logger.js';
import type { JobStore } from '../lib/store.js';

/** Reads the top of an uploaded workbook for the column picker (injected: Excel I/O lives in activities/). */
export type PreviewSheets = (input: {
  path: string;
  displayName: string;
  format: SheetFormat;
  sheet?: string;
  rows?: number;
}) => Promise<object>;

export interface AppDeps {
  readonly jobs: JobService;
  readonly client: Client;
  readonly store: JobStore;
  readonly dataDir: string;
  readonly namespace: string;
  readonly defaults: JobOptions;
  readonly preview: PreviewSheets;
  readonly maxUploadBytes: number;
  readonly apiToken?: string;
  readonly temporalUiUrl?: string;
  readonly logger?: Logger;
  /** Aborted when the server shuts down: open event streams end, telling browsers to reconnect. */
  readonly shutdown?: AbortSignal;
  /** Open event streams, so shutdown can wait for them to drain. */
  readonly sse: { open: number };
  readonly progressIntervalMs?: number;
}
