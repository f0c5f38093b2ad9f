import type { Codeframe } from './codeframe.js';
import type { Tally } from './coded-rows.js';
import { categoryKey } from './categories.js';
import type { JobStats } from './job.js';
import type { JobCost } from './cost.js';
import { formatCost } from './cost.js';
import type { SheetWarning } from './sheet-warnings.js';

/** A row of a report sheet: text and numbers; a number under a header starting with `%` is a fraction. */
export type ReportCell = string | number | null;
export type ReportRow = readonly ReportCell[];

export interface SummaryInput {
  readonly codeframe: Codeframe;
  readonly multi: boolean;
  readonly tally: Tally;
  /** A cancelled job: some rows were not reached. */
  readonly partial: boolean;
  readonly simulated: boolean;
}

export const PARTIAL_WARNING = 'PARTIAL RESULT: the job was cancelled; rows not yet coded are left blank.';

/** How categories under a net are shown in the Summary. */
const INDENT = '    ';

/**
 * The `Summary` sheet. A warning first when the run was simulated or cut short. Then the codeframe as
 * coded: nets (with their categories indented under them) and categories outside nets, largest first,
 * the fallback last, labels the file used outside the codeframe after it; each with its code, the
 * respondents (rows) who have it and their share of the respondents coded, in multi-code mode also the
 * mentions and their share of all mentions, and its place in the codeframe. Only what the model (or the
 * file, for rows already coded) gave is counted: invalid answers and rows whose batch ran out of retries
 * are in the rows table, apart from the fallback. Then how every row was treated.
 */
export function summaryRows(input: SummaryInput): ReportRow[] {
  const { codeframe, tally, multi } = input;
  const rows: ReportRow[] = [];
  if (input.simulated) rows.push([SIMULATED_WARNING], []);
  if (input.partial) {
    const coded = tally.rows.model + tally.rows.fallback;
    const asked = coded + tally.rows.notReached;
    rows.push(
      [
        `PARTIAL RESULT: the job was cancelled after ${coded} of ${asked} rows to code; the other ${tally.rows.notReached} are left blank and not counted here.`,
      ],
      [],
    );
  }
  const base = tally.respondents;
  const share = (n: number, of: number) => (of === 0 ? 0 : n / of);
  const line = (
    code: number | undefined,
    name: string,
    respondents: number,
    mentions: number,
    order: number | undefined,
  ): ReportRow => [
    code ?? null,
    name,
    respondents,
    share(respondents, base),
    ...(multi ? [mentions, share(mentions, tally.mentions)] : []),
    order ?? null,
  ];

  // Codeframe order, each net before its first category: the Order column gives the file's layout back.
  const order = new Map<string, number>();
  const netKey = (name: string) => `net:${categoryKey(name)}`;
  const categoryOrder = (name: string) => order.get(`category:${categoryKey(name)}`) ?? 0;
  for (const c of codeframe.categories) {
    if (c.net && !order.has(netKey(c.net))) order.set(netKey(c.net), order.size + 1);
    order.set(`category:${categoryKey(c.name)}`, order.size + 1);
  }
  const counted = codeframe.categories.map((c, i) => ({ c, n: tally.categories[i] ?? 0 }));
  const byCount = <T extends { n: number; order: number }>(a: T, b: T) => b.n - a.n || a.order - b.order;
  const categoryLine = ({ c, n }: { c: (typeof codeframe.categories)[number]; n: number }, indent: string) =>
    line(c.code, `${indent}${c.name}`, n, n, categoryOrder(c.name));
  const top = [
    ...codeframe.nets.map((net, i) => ({
      n: tally.nets[i] ?? 0,
      order: order.get(netKey(net.name)) ?? 0,
      lines: () => {
        const members = counted
          .filter(({ c }) => c.net !== undefined && categoryKey(c.net) === categoryKey(net.name))
          .map((m) => ({ ...m, order: categoryOrder(m.c.name) }))
          .sort(byCount);
        const mentions = members.reduce((sum, m) => sum + m.n, 0);
        return [
          line(net.code, `NET ${net.name}`, tally.nets[i] ?? 0, mentions, order.get(netKey(net.name))),
          ...members.map((m) => categoryLine(m, INDENT)),
        ];
      },
    })),
    ...counted
      .filter(({ c }) => !c.net && !c.fallback)
      .map((m) => ({
        n: m.n,
        order: categoryOrder(m.c.name),
        lines: () => [categoryLine(m, '')],
      })),
  ].sort(byCount);
  const fallback = counted.find(({ c }) => c.fallback);

  rows.push([
    'Code',
    'Category',
    'Respondents',
    '% of respondents',
    ...(multi ? ['Mentions', '% of mentions'] : []),
    'Order in codeframe',
  ]);
  for (const item of top) rows.push(...item.lines());
  if (fallback) rows.push(categoryLine(fallback, ''));
  for (const u of [...tally.unknown].sort((a, b) => b.count - a.count)) {
    rows.push(line(undefined, `${u.label} (not in the codeframe)`, u.count, u.count, undefined));
  }
  rows.push([
    null,
    'Respondents coded: the base of "% of respondents"' + (multi ? ' (one may have several categories)' : ''),
    base,
    base === 0 ? 0 : 1,
    ...(multi ? [null, null] : []),
    null,
  ]);
  if (multi) {
    rows.push([
      null,
      'Mentions: the base of "% of mentions"',
      null,
      null,
      tally.mentions,
      tally.mentions === 0 ? 0 : 1,
      null,
    ]);
  }

  const r = tally.rows;
  const blanks = multi ? ', its 0/1 columns blank' : '';
  rows.push(
    [],
    ['Rows', 'Count', 'Treatment'],
    ['Data rows', r.total, ''],
    ['Coded by the model', r.model, 'counted above'],
    ['Already coded in the file', r.file, 'kept as they were; counted above'],
    [
      'Invalid answers',
      r.invalid,
      `"${codeframe.fallback.name}" in the category cell without an API call${blanks}; not counted above`,
    ],
    [
      'Retries ran out',
      r.fallback,
      `"${codeframe.fallback.name}" in the category cell (see Run)${blanks}; not counted above`,
    ],
    ['Empty', r.empty, 'left blank'],
  );
  if (input.partial || r.notReached > 0)
    rows.push(['Not coded: the job was cancelled', r.notReached, 'left blank']);
  return rows;
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
  /** The part of `promptTokens` the API served from its prompt cache (absent in reports before it was counted). */
  readonly cachedTokens?: number;
  readonly completionTokens: number;
  /** What the tokens cost (synchronous and Batch API apart); absent in reports before costs were counted. */
  readonly cost?: JobCost;
  readonly partial: boolean;
  readonly fallbacks: readonly FallbackEntry[];
  /**
   * Batches answered partly wrong whose bad answers were asked again, the requests that took, and the answers
   * that failed alone (listed among the fallbacks, each with its rows and reason). Absent: none counted.
   */
  readonly salvage?: { readonly batches: number; readonly calls: number; readonly answersFallback: number };
  /** Multi-code jobs: the maximum codes an answer keeps, and how many answers were cut to it. */
  readonly multiCode?: { readonly maxCodes: number; readonly answersCut: number };
  /** How each answer's confidence was had, or why not (the model refused log-probabilities). */
  readonly confidence?: string;
  /** Rows coded before the job whose category cell names labels outside the codeframe. */
  readonly unknownLabels?: ReadonlyArray<{ readonly row: number; readonly labels: readonly string[] }>;
  /** What the reader noticed in the file, each naming its rows. */
  readonly warnings?: readonly SheetWarning[];
}

/** Rows of the Run sheet's list of labels outside the codeframe, at most; the rest are counted. */
const MAX_UNKNOWN_LISTED = 1_000;

export const SIMULATED_WARNING =
  "SIMULATED RUN: verbatim's simulator answered instead of a model (no OPENAI_API_KEY, or OPENAI_BASE_URL pointed at it). The categories are not real codings.";

/** The `Run` sheet: what ran, with which settings, how fast, and every fallback with its reason. */
export function runRows(info: RunInfo): ReportRow[] {
  const s = info.stats;
  const rows: ReportRow[] = [];
  if (info.simulated) rows.push([SIMULATED_WARNING], []);
  if (info.partial) rows.push([PARTIAL_WARNING], []);
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
    [
      'Coding',
      info.multiCode
        ? `multi-code: every category that applies, at most ${info.multiCode.maxCodes} an answer`
        : 'single-label: one category an answer',
    ],
    ...(info.multiCode
      ? [[`Answers cut to ${info.multiCode.maxCodes} codes (the model gave more)`, info.multiCode.answersCut]]
      : []),
    ...(info.confidence !== undefined ? [['Confidence', info.confidence]] : []),
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
    ...(info.cachedTokens !== undefined ? [['Cached prompt tokens', info.cachedTokens]] : []),
    ['Completion tokens', info.completionTokens],
    ...(info.cost ? costRows(info.cost) : []),
    ['Fallback batches', s.fallbackBatches],
    ['Fallback rows', s.fallbackRows],
    ...(info.salvage
      ? [
          ['Salvaged batches (answered partly wrong, bad answers asked again)', info.salvage.batches],
          ['Salvage requests', info.salvage.calls],
          ['Answers fallen back alone', info.salvage.answersFallback],
        ]
      : []),
  );
  const warnings = info.warnings ?? [];
  if (warnings.length > 0) {
    rows.push([], ['About the file', 'Rows']);
    for (const w of warnings) rows.push([w.message, w.rowCount]);
  }
  if (info.fallbacks.length > 0) {
    rows.push([], ['Fallback batch', 'Rows', 'Reason']);
    for (const f of info.fallbacks) rows.push([f.batch + 1, formatRowList(f.rows), f.reason]);
  }
  const unknown = info.unknownLabels ?? [];
  if (unknown.length > 0) {
    rows.push(
      [],
      [
        'Row',
        'Labels already in the file that the codeframe does not have (kept in the cell, no 0/1 column)',
      ],
    );
    for (const u of unknown.slice(0, MAX_UNKNOWN_LISTED)) rows.push([u.row, u.labels.join('; ')]);
    if (unknown.length > MAX_UNKNOWN_LISTED) {
      rows.push([`… and ${unknown.length - MAX_UNKNOWN_LISTED} more rows`]);
    }
  }
  return rows;
}

/**
 * The cost lines of the Run sheet: the total, then input (uncached), cached input and output, synchronous
 * and Batch API apart (the Batch API lines only when it sent some), in dollars; "cost unknown" without a price.
 */
function costRows(cost: JobCost): ReportRow[] {
  const rows: ReportRow[] = [['Cost (USD)', cost.total === null ? formatCost(null) : round6(cost.total)]];
  const parts = (mode: string, c: JobCost['sync']) =>
    c
      ? [
          [`Cost of input tokens, ${mode} (USD)`, round6(c.input)],
          [`Cost of cached input tokens, ${mode} (USD)`, round6(c.cached)],
          [`Cost of output tokens, ${mode} (USD)`, round6(c.output)],
        ]
      : [];
  rows.push(...parts('synchronous', cost.sync));
  if (cost.batch && cost.batch.total > 0) rows.push(...parts('Batch API', cost.batch));
  if (cost.priceSource) rows.push(['Prices', cost.priceSource]);
  if (cost.maxCost !== null) rows.push(['Cost cap (MAX_COST, USD)', cost.maxCost]);
  return rows;
}

/** Dollars to a millionth: a job of a few hundred answers costs fractions of a cent. */
function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
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
