import type { Category } from './categories.js';
import { categoryKey } from './categories.js';
import type { JobStats, RowCounts } from './job.js';

/** A row of a report sheet: text and numbers; a number under a `%` header is a fraction (0.25 = 25 %). */
export type ReportCell = string | number | null;
export type ReportRow = readonly ReportCell[];

export interface SummaryInput {
  readonly categories: readonly Category[];
  readonly fallbackLabel: string;
  /** Final label of every row that has one (coded now, coded before, invalid → fallback). */
  readonly labels: Iterable<string>;
  readonly rows: RowCounts;
  readonly fallbackRows: number;
}

/** The `Summary` sheet: count and share per category, then how the rows were treated. */
export function summaryRows(input: SummaryInput): ReportRow[] {
  const counts = new Map<string, { label: string; count: number }>();
  for (const c of input.categories) counts.set(categoryKey(c.name), { label: c.name, count: 0 });
  if (!counts.has(categoryKey(input.fallbackLabel))) {
    counts.set(categoryKey(input.fallbackLabel), { label: input.fallbackLabel, count: 0 });
  }
  let coded = 0;
  for (const label of input.labels) {
    const key = categoryKey(label);
    const entry = counts.get(key) ?? { label: label.trim(), count: 0 };
    entry.count += 1;
    counts.set(key, entry);
    coded += 1;
  }
  const share = (n: number) => (coded === 0 ? 0 : n / coded);
  return [
    ['Category', 'Count', '%'],
    ...[...counts.values()].map(({ label, count }) => [label, count, share(count)]),
    ['Total coded', coded, coded === 0 ? 0 : 1],
    [],
    ['Rows', 'Count', 'Treatment'],
    ['Data rows', input.rows.total, ''],
    ['Empty', input.rows.empty, 'left blank'],
    ['Invalid', input.rows.invalid, `coded "${input.fallbackLabel}" without an API call`],
    ['Already coded', input.rows.coded, 'kept as they were'],
    ['Classified', input.rows.classify, 'coded by the model'],
    ['Fallback', input.fallbackRows, `coded "${input.fallbackLabel}" after retries ran out (see Run)`],
  ];
}

export interface FallbackEntry {
  readonly batch: number;
  readonly rows: readonly number[];
  readonly reason: string;
}

export interface RunInfo {
  readonly jobId: string;
  readonly fileName: string;
  readonly sheet: string;
  readonly column: string;
  readonly header: string;
  readonly question: string;
  readonly model: string;
  readonly temperature: number;
  readonly batchSize: number | 'auto';
  readonly concurrency: number;
  readonly parallel: boolean;
  /** Set when verbatim's simulator answered some or all batches instead of a model. */
  readonly simulated: boolean;
  /** How many of the batches it answered, when known (a resumed job may mix the two). */
  readonly simulatedBatches?: { readonly answered: number; readonly of: number };
  readonly endpoint: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly stats: JobStats;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly partial: boolean;
  readonly fallbacks: readonly FallbackEntry[];
}

export const SIMULATED_WARNING =
  "SIMULATED RUN: verbatim's simulator answered instead of a model (no OPENAI_API_KEY, or OPENAI_BASE_URL pointed at it). The categories are not real codings.";

/** The `Run` sheet: what ran, with which settings, how fast, and every fallback with its reason. */
export function runRows(info: RunInfo): ReportRow[] {
  const s = info.stats;
  const rows: ReportRow[] = [];
  if (info.simulated) rows.push([SIMULATED_WARNING], []);
  if (info.partial)
    rows.push(['PARTIAL RESULT: the job was cancelled; rows not yet coded are left blank.'], []);
  rows.push(
    ['Setting', 'Value'],
    ['Job', info.jobId],
    ['File', info.fileName],
    ['Sheet', info.sheet],
    ['Answer column', `${info.column} (${info.header})`],
    ['Question', info.question],
    ['Model', info.simulated ? `${info.model} (simulated)` : info.model],
    ['Endpoint', info.endpoint],
    ...(info.simulatedBatches
      ? [
          [
            'Answered by the simulator',
            `${info.simulatedBatches.answered} of ${info.simulatedBatches.of} batches`,
          ],
        ]
      : []),
    ['Temperature', info.temperature],
    ['Batch size', info.batchSize],
    ['Parallel processing', info.parallel ? 'on' : 'off'],
    ['Workers (window)', info.concurrency],
    ['Started', info.startedAt],
    ['Ended', info.endedAt],
    ['Total time (s)', s.totalSeconds],
    ['Classification time (s)', s.classifySeconds],
    ['Rate (responses/minute)', s.ratePerMinute],
    ['Sequential estimate (s)', s.sequentialEstimateSeconds],
    ['Speedup', s.speedup],
    ['API calls', s.apiCalls],
    ['Rate-limited responses (429)', s.rateLimited],
    ['Prompt tokens', info.promptTokens],
    ['Completion tokens', info.completionTokens],
    ['Fallback batches', s.fallbackBatches],
    ['Fallback rows', s.fallbackRows],
  );
  if (info.fallbacks.length > 0) {
    rows.push([], ['Fallback batch', 'Rows', 'Reason']);
    for (const f of info.fallbacks) rows.push([f.batch + 1, formatRowList(f.rows), f.reason]);
  }
  return rows;
}

/** `[3, 4, 5, 9]` → `3–5, 9`. */
export function formatRowList(rows: readonly number[]): string {
  const sorted = [...rows].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] ?? 0) + 1) j += 1;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}–${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}
