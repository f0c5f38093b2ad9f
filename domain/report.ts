import type { Codeframe } from './codeframe.js';
import type { Tally } from './coded-rows.js';
import { categoryKey } from './categories.js';
import type { JobStats } from './job.js';
import type { JobCost } from './cost.js';
import { formatCost } from './cost.js';
import type { QualitySummary } from './quality.js';
import type { ReportRow } from './report-row.js';
import type { SheetWarning } from './sheet-warnings.js';

// In a room of their own, so quality.ts and banner-tables.ts can make rows without importing this file.
export type { ReportCell, ReportRow } from './report-row.js';

export interface SummaryInput {
  readonly codeframe: Codeframe;
  readonly multi: boolean;
  readonly tally: Tally;
  /** A cancelled or failed job: some rows were not reached. */
  readonly partial: boolean;
  /** The partial job failed rather than being cancelled. */
  readonly failed?: boolean;
  readonly simulated: boolean;
}

export const PARTIAL_WARNING = 'PARTIAL RESULT: the job was cancelled; rows not yet coded are left blank.';
export const FAILED_WARNING = 'PARTIAL RESULT: the job failed; rows not yet coded are left blank.';

/** How categories under a net are shown in the Summary. */
const INDENT = '    ';

/** One line of the Summary's category table: a net, a category, the fallback, or a label outside the codeframe. */
export interface SummaryEntry {
  readonly kind: 'net' | 'category' | 'fallback' | 'unknown';
  readonly code: number | null;
  readonly label: string;
  /** The net a category is counted in, if any. */
  readonly net: string | null;
  /** Respondents (rows) with it, and their share of the base (0–1). */
  readonly respondents: number;
  readonly share: number;
  /** Multi-code: labels given (for a net, its categories' together) and their share of all mentions. */
  readonly mentions: number;
  readonly mentionShare: number;
  /** Its place in the codeframe file (1-based, nets before their first category); null outside it. */
  readonly order: number | null;
  /** Its code column (categories, then nets) in `CodedRows`; null for labels outside the codeframe. */
  readonly column: number | null;
}

/** The Summary's figures before they are laid out as a sheet or sent as JSON. */
export interface SummaryTable {
  /** SIMULATED and PARTIAL warnings, in that order, when they apply. */
  readonly notices: readonly string[];
  /** Rows coded by the model or already coded in the file: the base of every share. */
  readonly base: number;
  readonly mentions: number;
  /** Largest first: each net followed by its categories, categories outside nets, the fallback, unknown labels. */
  readonly entries: readonly SummaryEntry[];
  readonly rows: Tally['rows'];
}

/** What the base of "% of respondents" is, in words (the Summary sheet and the JSON say the same). */
export function baseText(multi: boolean): string {
  return (
    'Respondents coded: the base of "% of respondents"' + (multi ? ' (one may have several categories)' : '')
  );
}

/**
 * The Summary's figures. The codeframe as coded: nets (each followed by its categories) and categories
 * outside nets, largest first, the fallback last, labels the file used outside the codeframe after it; each
 * with its code, the respondents (rows) who have it and their share of the respondents coded, the mentions,
 * and its place in the codeframe. Only what the model (or the file, for rows already coded) gave is
 * counted: invalid answers and rows whose batch ran out of retries are in `rows`, apart from the fallback.
 */
export function summaryTable(input: SummaryInput): SummaryTable {
  const { codeframe, tally } = input;
  const notices: string[] = [];
  if (input.simulated) notices.push(SIMULATED_WARNING);
  if (input.partial) {
    const coded = tally.rows.model + tally.rows.fallback;
    const asked = coded + tally.rows.notReached;
    notices.push(
      `PARTIAL RESULT: the job ${input.failed ? 'failed' : 'was cancelled'} after ${coded} of ${asked} rows to code; the other ${tally.rows.notReached} are left blank and not counted here.`,
    );
  }
  const base = tally.respondents;
  const share = (n: number, of: number) => (of === 0 ? 0 : n / of);
  const entry = (
    e: Omit<SummaryEntry, 'share' | 'mentionShare'> & { respondents: number; mentions: number },
  ): SummaryEntry => ({
    ...e,
    share: share(e.respondents, base),
    mentionShare: share(e.mentions, tally.mentions),
  });

  // Codeframe order, each net before its first category: the Order column gives the file's layout back.
  const order = new Map<string, number>();
  const netKey = (name: string) => `net:${categoryKey(name)}`;
  const categoryOrder = (name: string) => order.get(`category:${categoryKey(name)}`) ?? 0;
  for (const c of codeframe.categories) {
    if (c.net && !order.has(netKey(c.net))) order.set(netKey(c.net), order.size + 1);
    order.set(`category:${categoryKey(c.name)}`, order.size + 1);
  }
  const counted = codeframe.categories.map((c, i) => ({ c, i, n: tally.categories[i] ?? 0 }));
  const byCount = <T extends { n: number; order: number }>(a: T, b: T) => b.n - a.n || a.order - b.order;
  const categoryEntry = ({ c, i, n }: (typeof counted)[number]) =>
    entry({
      kind: c.fallback ? 'fallback' : 'category',
      code: c.code ?? null,
      label: c.name,
      net: c.net ?? null,
      respondents: n,
      mentions: n,
      order: categoryOrder(c.name),
      column: i,
    });
  const top = [
    ...codeframe.nets.map((net, i) => ({
      n: tally.nets[i] ?? 0,
      order: order.get(netKey(net.name)) ?? 0,
      entries: () => {
        const members = counted
          .filter(({ c }) => c.net !== undefined && categoryKey(c.net) === categoryKey(net.name))
          .map((m) => ({ ...m, order: categoryOrder(m.c.name) }))
          .sort(byCount);
        return [
          entry({
            kind: 'net',
            code: net.code ?? null,
            label: net.name,
            net: null,
            respondents: tally.nets[i] ?? 0,
            mentions: members.reduce((sum, m) => sum + m.n, 0),
            order: order.get(netKey(net.name)) ?? null,
            column: codeframe.categories.length + i,
          }),
          ...members.map(categoryEntry),
        ];
      },
    })),
    ...counted
      .filter(({ c }) => !c.net && !c.fallback)
      .map((m) => ({ n: m.n, order: categoryOrder(m.c.name), entries: () => [categoryEntry(m)] })),
  ].sort(byCount);
  const fallback = counted.find(({ c }) => c.fallback);
  const entries = [
    ...top.flatMap((item) => item.entries()),
    ...(fallback ? [categoryEntry(fallback)] : []),
    ...[...tally.unknown]
      .sort((a, b) => b.count - a.count)
      .map((u) =>
        entry({
          kind: 'unknown',
          code: null,
          label: u.label,
          net: null,
          respondents: u.count,
          mentions: u.count,
          order: null,
          column: null,
        }),
      ),
  ];
  return { notices, base, mentions: tally.mentions, entries, rows: tally.rows };
}

/**
 * The `Summary` sheet: the warnings first, then `summaryTable`'s figures (in multi-code mode also the
 * mentions and their share of all mentions), then how every row was treated.
 */
export function summaryRows(input: SummaryInput): ReportRow[] {
  const { codeframe, multi } = input;
  const table = summaryTable(input);
  const rows: ReportRow[] = table.notices.flatMap((notice) => [[notice], []]);
  const { base } = table;
  rows.push([
    'Code',
    'Category',
    'Respondents',
    '% of respondents',
    ...(multi ? ['Mentions', '% of mentions'] : []),
    'Order in codeframe',
  ]);
  for (const e of table.entries) {
    const name =
      e.kind === 'net'
        ? `NET ${e.label}`
        : e.kind === 'unknown'
          ? `${e.label} (not in the codeframe)`
          : e.net
            ? `${INDENT}${e.label}`
            : e.label;
    rows.push([
      e.code,
      name,
      e.respondents,
      e.share,
      ...(multi ? [e.mentions, e.mentionShare] : []),
      e.order,
    ]);
  }
  rows.push([null, baseText(multi), base, base === 0 ? 0 : 1, ...(multi ? [null, null] : []), null]);
  if (multi) {
    rows.push([
      null,
      'Mentions: the base of "% of mentions"',
      null,
      null,
      table.mentions,
      table.mentions === 0 ? 0 : 1,
      null,
    ]);
  }

  const r = table.rows;
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
    rows.push([
      `Not coded: the job ${input.failed ? 'failed' : 'was cancelled'}`,
      r.notReached,
      'left blank',
    ]);
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
  /** The partial job failed rather than being cancelled. */
  readonly failed?: boolean;
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
  /** The second opinion: the review model, what it was asked, what it changed, and its own requests and tokens. */
  readonly review?: {
    readonly model: string;
    readonly below: number;
    readonly answers: number;
    readonly recoded: number;
    readonly changed: number;
    readonly failed: number;
    readonly calls: number;
    readonly promptTokens: number;
    readonly cachedTokens: number;
    readonly completionTokens: number;
  };
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
  if (info.partial) rows.push([info.failed ? FAILED_WARNING : PARTIAL_WARNING], []);
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
    ...(info.review
      ? [
          ['Review model (second opinion)', info.review.model],
          [`Answers under ${info.review.below} sent to the review model`, info.review.answers],
          ['Answers the review model coded (its label kept)', info.review.recoded],
          ['Answers whose label the review changed', info.review.changed],
          ["Answers whose review failed (the first model's label kept)", info.review.failed],
          ['Review API calls', info.review.calls],
          ['Review prompt tokens', info.review.promptTokens],
          ['Review cached prompt tokens', info.review.cachedTokens],
          ['Review completion tokens', info.review.completionTokens],
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
 * and Batch API apart (the Batch API lines only when it sent some), then the review model's requests at its
 * own price (when it sent any), in dollars; "cost unknown" without a price.
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
  // The second opinion at its own model's price; a price for the job's model but no total: it has none.
  if (cost.review) rows.push(...parts('review model', cost.review));
  else if (cost.total === null && cost.sync) rows.push(['Cost of the review model (USD)', formatCost(null)]);
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

/** An example answer is cut to this many characters (the page shows it on one or two lines). */
const EXAMPLE_CHARS = 200;

/** A job's result as `GET /jobs/:id/summary` sends it: the Summary sheet's figures, with example answers. */
export interface ResultSummary {
  readonly simulated: boolean;
  readonly partial: boolean;
  /** How the job that wrote it ended: a partial result comes from a cancel or a failure. */
  readonly ended: 'completed' | 'cancelled' | 'failed';
  /** The SIMULATED and PARTIAL warnings the Summary sheet starts with. */
  readonly notices: string[];
  readonly multi: boolean;
  readonly base: {
    /** Respondents coded: the base of every `share`. */
    readonly respondents: number;
    /** Labels given over them: the base of every `mentionShare`. */
    readonly mentions: number;
    readonly description: string;
  };
  /** As the Summary sheet lists them; `order` is the place in the codeframe file. */
  readonly categories: Array<Omit<SummaryEntry, 'column'> & { readonly examples: string[] }>;
  /** How every data row was treated: invalid, fallback, empty and uncoded rows are not in the base. */
  readonly rows: Tally['rows'];
  /** Agreement with the human-coded column, when the job had one. */
  readonly agreement: QualitySummary | null;
}

export const BASE_DESCRIPTION =
  'Respondents coded by the model or already coded in the file. Invalid answers, empty rows, rows whose retries ran out (coded "Other" in the file) and rows not coded are not in it.';

/** The Summary's figures for the API, each entry with example answers (`examples` gives them by code column). */
export function resultSummary(
  input: SummaryInput,
  examples: (column: number) => readonly string[],
  agreement: QualitySummary | undefined,
): ResultSummary {
  const table = summaryTable(input);
  return {
    simulated: input.simulated,
    partial: input.partial,
    ended: !input.partial ? 'completed' : input.failed ? 'failed' : 'cancelled',
    notices: [...table.notices],
    multi: input.multi,
    base: { respondents: table.base, mentions: table.mentions, description: BASE_DESCRIPTION },
    categories: table.entries.map(({ column, ...e }) => ({
      ...e,
      examples: (column === null ? [] : examples(column)).map((text) =>
        text.length > EXAMPLE_CHARS ? `${text.slice(0, EXAMPLE_CHARS - 1)}…` : text,
      ),
    })),
    rows: table.rows,
    agreement: agreement ?? null,
  };
}
