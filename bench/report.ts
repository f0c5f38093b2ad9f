import type { CpuUsage } from './proc.js';
import type { CeilingCase, CostRun, Measured, MultiRun, OriginalRun, RateRun, Usage } from './scenarios.js';
import { dollarsPerThousand } from './cost.js';
import {
  CEILING,
  LIMITS,
  RATE_WINDOW,
  SCALE,
  SCALE_DIVISOR,
  SCALING,
  configuredBudget,
} from './scenarios.js';

/** Numbers rounded for the table and the JSON file (results are committed: keep them small). */
const r1 = (n: number) => Math.round(n * 10) / 10;
const r2 = (n: number) => Math.round(n * 100) / 100;
const r3 = (n: number) => Math.round(n * 1000) / 1000;
/** Dollars per 1,000 answers are fractions of a cent: five decimals. */
const r5 = (n: number) => Math.round(n * 100_000) / 100_000;

function cpu(u: CpuUsage | undefined) {
  return u
    ? {
        cpuPercent: r1(u.cpuPercent),
        ...(u.rssPeakMb > 0 ? { rssPeakMb: Math.round(u.rssPeakMb) } : {}),
        ...(u.cpuStallPercent !== undefined ? { cpuStallPercent: r1(u.cpuStallPercent) } : {}),
      }
    : undefined;
}

function usage(u: Usage) {
  return {
    worker: cpu(u.worker),
    temporal: cpu(u.temporal),
    bench: cpu(u.bench),
    machine: cpu(u.machine),
    /** Machine CPU not used by the worker, the dev server or the bench: other processes. */
    othersCpuPercent:
      u.machine && u.worker && u.temporal && u.bench
        ? Math.max(
            0,
            r1(u.machine.cpuPercent - u.worker.cpuPercent - u.temporal.cpuPercent - u.bench.cpuPercent),
          )
        : undefined,
  };
}

function roundAll<T extends object>(o: T): Record<keyof T, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(Number(v))])) as Record<
    keyof T,
    number
  >;
}

/** What every job reports, whatever the scenario. */
function jobFigures(m: Measured) {
  const { run } = m;
  const s = run.result.stats;
  const arrivals = run.sim.arrivals;
  return {
    jobId: run.jobId,
    wallS: r2(run.wallMs / 1000),
    /** The workflow's classification phase (prepare and write excluded), as the job's stats report it. */
    classifyS: s.classifySeconds,
    firstRequestS: r2((arrivals[0] ?? 0) / 1000),
    lastRequestS: r2((arrivals.at(-1) ?? 0) / 1000),
    rows: run.check.rows,
    batches: run.check.batches,
    responsesPerMin: Math.round((run.check.rows / run.wallMs) * 60_000),
    apiCalls: run.sim.requests,
    status: run.sim.byStatus,
    rateLimited429: run.sim.byStatus['429'] ?? 0,
    /** 200s beyond one per batch: a batch answered twice (rows are still coded once). */
    duplicateAnswers: Math.max(0, run.sim.answered - run.check.batches),
    fallbackBatches: s.fallbackBatches,
    fallbackRows: s.fallbackRows,
    maxInFlight: run.sim.maxInFlight,
    finalWindow: run.result.progress.window.size,
    ...(run.minWindow !== undefined ? { minWindow: run.minWindow } : {}),
    rowsCheck: run.check.ok ? 'every row coded exactly once' : run.check.problems,
    timeline: roundAll(run.timeline),
    cpu: usage(m.usage.job),
    busiestOtherProcesses: m.others,
    cpuDuringRequests: usage(m.usage.requests),
    ...(m.usage.workerPeakRssMb !== undefined
      ? { workerPeakRssMb: Math.round(m.usage.workerPeakRssMb) }
      : {}),
  };
}

export type JobFigures = ReturnType<typeof jobFigures>;

// ── 1 ──

export const ORIGINAL_CLAIMS: Record<number, string> = {
  1: '17 min, one at a time',
  5: '3–5× with 5 workers',
  10: '6–8× with 10 workers',
};

/**
 * The wall time at the original's real latency, projected: the requests' own time (batches × (latency +
 * delay) / workers) scaled back up to real time, everything else (orchestration, prepare, write) as measured, since
 * none of it shrank with the scale. A model, not a measurement.
 */
function projectedUnscaledMs(r: OriginalRun): number {
  const requestsMs = (r.m.run.check.batches * (SCALING.latencyMs + SCALING.rateLimitDelayMs)) / r.workers;
  return requestsMs / SCALE + (r.m.run.wallMs - requestsMs);
}

export function originalFigures(runs: readonly OriginalRun[]) {
  const base = runs.find((r) => r.workers === 1);
  return runs.map((r) => {
    const f = jobFigures(r.m);
    const baseWall = base?.m.run.wallMs;
    const baseClassify = base?.m.run.result.stats.classifySeconds;
    const projected = projectedUnscaledMs(r);
    return {
      workers: r.workers,
      ...f,
      speedup: baseWall ? r2(baseWall / r.m.run.wallMs) : undefined,
      classifySpeedup: baseClassify ? r2(baseClassify / r.m.run.result.stats.classifySeconds) : undefined,
      /** Measured wall scaled back: the unscaled equivalent as the brief defines it. */
      unscaledWallMin: r1(r.m.run.wallMs / SCALE / 60_000),
      projectedUnscaledMin: r1(projected / 60_000),
      projectedSpeedup: base ? r2(projectedUnscaledMs(base) / projected) : undefined,
      originalClaim: ORIGINAL_CLAIMS[r.workers] ?? '',
    };
  });
}

// ── 2 ──

export function rateFigures(runs: readonly RateRun[]) {
  return runs.map((r) => {
    const f = jobFigures(r.m);
    const arrivals = r.m.run.sim.arrivals;
    const requestPhaseMs = (arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0) + SCALING.latencyMs;
    return {
      limit: r.limit,
      budget: r.budget,
      apiLimit: LIMITS[r.limit],
      configuredBudget: configuredBudget(r.limit, r.budget) ?? null,
      ...f,
      floor: {
        /** N: requests the API admitted; S_N: tokens it charged them (the simulator's stats). */
        admittedRequests: r.admitted,
        chargedTokens: r.chargedTokens,
        windows: r2(r.floor.windows),
        lastAdmissionS: r2(r.floor.lastAdmissionMs / 1000),
        floorS: r2(r.floor.floorMs / 1000),
      },
      wallOverFloor: r3(r.m.run.wallMs / r.floor.floorMs),
      /** First to last request plus one latency, over the floor: the pacing alone, prepare and write left out. */
      requestsOverFloor: r3(requestPhaseMs / r.floor.floorMs),
      adoptedApiLimit: r.budget === 'double' ? r.adoptedApiLimit : undefined,
    };
  });
}

// ── 3 ──

export function ceilingFigures(m: Measured, budget: CeilingCase) {
  const f = jobFigures(m);
  const arrivals = m.run.sim.arrivals;
  const spanS = ((arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0)) / 1000;
  return {
    budget,
    window: CEILING.window,
    ...f,
    batchesPerS: r1(f.batches / f.classifyS),
    answersPerS: Math.round(f.rows / f.classifyS),
    /** The same over first to last request, which leaves out the workflow's own start of the phase. */
    batchesPerSBetweenRequests: spanS > 0 ? r1((f.batches - 1) / spanS) : undefined,
  };
}

// ── 5 ──

export function costFigures(runs: readonly CostRun[], defaultBatchSize: number | 'auto') {
  return runs.map((r) => {
    const { run } = r;
    // Each workbook against the original layout on the same workbook.
    const base = runs.find((b) => b.workbook === r.workbook && b.layout === 'original');
    const baseDollars = base ? dollarsPerThousand(base.run.tokens, base.run.answers) : undefined;
    const baseBilled = base
      ? dollarsPerThousand({ ...base.run.billed, cached: 0 }, base.run.answers)
      : undefined;
    const per = (n: number) => r2(n / Math.max(1, run.answers));
    const mode = r.batchApi ? 'batch' : 'sync';
    const dollars = dollarsPerThousand(run.tokens, run.answers, mode);
    const billed = dollarsPerThousand({ ...run.billed, cached: 0 }, run.answers, mode);
    return {
      workbook: r.workbook,
      layout: r.layout,
      batchSize: r.batchSize,
      isDefault: r.layout === 'verbatim' && r.batchSize === defaultBatchSize && !r.batchApi,
      batchApi: r.batchApi === true,
      requests: run.requests,
      /** Answers coded (rows with an answer, repeats included): the dollars' divisor. */
      answers: run.answers,
      /** Distinct answers sent. */
      sent: run.sent ?? run.answers,
      /** The simulator's counts (four characters a token), per answer coded. */
      tokensPerAnswer: {
        prompt: per(run.tokens.prompt),
        cached: per(run.tokens.cached),
        completion: per(run.tokens.completion),
      },
      /** o200k, the schema in the prompt: an estimate of OpenAI's bill, per answer coded. */
      billedTokensPerAnswer: { prompt: per(run.billed.prompt), completion: per(run.billed.completion) },
      dollarsPer1000: r5(dollars),
      vsOriginal: baseDollars ? r3(dollars / baseDollars) : undefined,
      billedDollarsPer1000: r5(billed),
      billedVsOriginal: baseBilled ? r3(billed / baseBilled) : undefined,
      ...(r.m ? { job: jobFigures(r.m) } : {}),
    };
  });
}

export function costTableText(rows: ReturnType<typeof costFigures>): string {
  const pct = (x: number | undefined) => (x === undefined ? '–' : `${Math.round(x * 100)}%`);
  return table(
    [
      'workbook',
      'layout',
      'batch size',
      'requests',
      'answers coded / sent',
      'tokens/answer: prompt + completion',
      '$/1,000 answers',
      'vs original',
      'o200k tokens/answer',
      'o200k $/1,000',
      'vs original',
      'wall s',
      `×${SCALE_DIVISOR} wall`,
    ],
    rows.map((r) => [
      r.workbook,
      r.layout === 'original'
        ? 'original tool'
        : `verbatim${r.isDefault ? ' (default)' : ''}${r.batchApi ? ', Batch API' : ''}`,
      r.batchSize,
      r.requests,
      `${r.answers} / ${r.sent}`,
      `${r.tokensPerAnswer.prompt} + ${r.tokensPerAnswer.completion}` +
        (r.tokensPerAnswer.cached > 0 ? ` (${r.tokensPerAnswer.cached} cached)` : ''),
      `$${r.dollarsPer1000.toFixed(5)}`,
      pct(r.vsOriginal),
      `${r.billedTokensPerAnswer.prompt} + ${r.billedTokensPerAnswer.completion}`,
      `$${r.billedDollarsPer1000.toFixed(5)}`,
      pct(r.billedVsOriginal),
      r.job ? r.job.wallS : '–',
      r.job ? `${r1(r.job.wallS / SCALE / 60)} min` : '–',
    ]),
  );
}

// ── Targets ──

export interface Target {
  readonly name: string;
  readonly measured: string;
  readonly pass: boolean;
}

export function targets(
  original: ReturnType<typeof originalFigures> | undefined,
  rate: ReturnType<typeof rateFigures> | undefined,
  cost?: ReturnType<typeof costFigures>,
): Target[] {
  const out: Target[] = [];
  // The issue's measure: the workbook like the original table's, the simulator's counts.
  const like = cost?.filter((c) => c.workbook === 'repeats') ?? [];
  for (const [row, share, what] of [
    [like.find((c) => c.isDefault), 0.25, "verbatim's default at most ¼"],
    [like.find((c) => c.batchApi), 0.125, 'Batch API mode at most ⅛'],
  ] as const) {
    if (row?.vsOriginal === undefined) continue;
    out.push({
      name: `cost: ${what} of the original layout's $ per coded answer (original-like workbook, simulator counts)`,
      measured: `${Math.round(row.vsOriginal * 1000) / 10}% (o200k estimate ${Math.round((row.billedVsOriginal ?? 0) * 1000) / 10}%)`,
      pass: row.vsOriginal <= share,
    });
  }
  for (const [workers, min] of [
    [5, 4.7],
    [10, 9.3],
  ] as const) {
    const run = original?.find((r) => r.workers === workers);
    if (run?.speedup === undefined) continue;
    out.push({
      name: `original table: speedup at ${workers} workers ≥ ${min}×`,
      measured: `${run.speedup}× (classify phase ${run.classifySpeedup}×)`,
      pass: run.speedup >= min,
    });
  }
  for (const run of rate ?? []) {
    if (run.budget === 'none') continue;
    const max = run.budget === 'real' ? 1.05 : 1.1;
    const what =
      run.budget === 'real'
        ? 'at the real limit'
        : run.budget === 'double'
          ? 'at twice the limit'
          : 'at twice the limit, no rate-limit headers';
    out.push({
      name: `${run.limit.toUpperCase()} budget ${what}: wall ≤ ${max}× floor, no fallbacks`,
      measured: `${run.wallOverFloor}× (requests alone ${run.requestsOverFloor}×), ${run.fallbackBatches} fallbacks`,
      pass: run.wallOverFloor <= max && run.fallbackBatches === 0,
    });
  }
  return out;
}

// ── 4 ──

export function multiFigures(runs: readonly MultiRun[]) {
  const single = runs.find((r) => !r.coding.multi);
  return runs.map((r) => {
    const f = jobFigures(r.m);
    const tokens = r.m.run.result.progress.tokens;
    const answers = r.m.run.result.progress.uniqueAnswers;
    const per = (n: number) => r1(n / Math.max(1, answers));
    return {
      coding: r.coding.multi ? `multi-code, at most ${r.coding.maxCodes}` : 'single-label',
      codesPerAnswer: r2(r.codesPerAnswer),
      ...f,
      answers,
      tokensPerAnswer: {
        prompt: per(tokens.prompt),
        completion: per(tokens.completion),
        total: per(tokens.total),
      },
      wallVsSingle: single ? r2(r.m.run.wallMs / single.m.run.wallMs) : undefined,
      totalTokensVsSingle: single
        ? r2(tokens.total / Math.max(1, single.m.run.result.progress.tokens.total))
        : undefined,
    };
  });
}

// ── Text ──

/** A markdown-style table, columns padded to their widest cell. */
export function table(
  headers: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | number>>,
): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const columns = Math.max(...cells.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) =>
    Math.max(...cells.map((r) => (r[i] ?? '').length)),
  );
  const line = (r: readonly string[]) => `| ${widths.map((w, i) => (r[i] ?? '').padEnd(w)).join(' | ')} |`;
  return [
    line(cells[0] ?? []),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...cells.slice(1).map(line),
  ].join('\n');
}

const pct = (u: { cpuPercent: number } | undefined) => (u ? `${Math.round(u.cpuPercent)}%` : '–');

export function originalTableText(runs: ReturnType<typeof originalFigures>): string {
  return table(
    [
      'workers',
      'wall s',
      'classify s',
      'resp/min',
      'speedup',
      'API calls',
      '429s',
      'fallbacks',
      'in flight',
      'worker CPU',
      'others CPU',
      `×${SCALE_DIVISOR} wall`,
      'projected at 4 s*',
      'original tool',
    ],
    runs.map((r) => [
      r.workers,
      r.wallS,
      r.classifyS,
      r.responsesPerMin,
      r.speedup === undefined ? '–' : `${r.speedup}×`,
      r.apiCalls,
      r.rateLimited429,
      r.fallbackBatches,
      r.maxInFlight,
      pct(r.cpu.worker),
      r.cpu.othersCpuPercent === undefined ? '–' : `${Math.round(r.cpu.othersCpuPercent)}%`,
      `${r.unscaledWallMin} min`,
      `${r.projectedUnscaledMin} min, ${r.projectedSpeedup ?? '–'}×`,
      r.originalClaim,
    ]),
  );
}

export function rateTableText(runs: ReturnType<typeof rateFigures>): string {
  return table(
    [
      'limit',
      'budget',
      'wall s',
      'floor s',
      'wall/floor',
      'requests/floor',
      'first req s',
      'API calls',
      '429s',
      'fallbacks',
      'window min→end',
      'adopted API limit',
    ],
    runs.map((r) => [
      `${r.limit.toUpperCase()} ${r.apiLimit}`,
      r.configuredBudget === null
        ? `none, fixed window ${RATE_WINDOW}`
        : `${r.configuredBudget} (${r.budget}), adaptive`,
      r.wallS,
      r.floor.floorS,
      `${r.wallOverFloor}×`,
      `${r.requestsOverFloor}×`,
      r.firstRequestS,
      r.apiCalls,
      r.rateLimited429,
      r.fallbackBatches,
      `${r.minWindow ?? '–'}→${r.finalWindow}`,
      r.adoptedApiLimit === undefined ? '' : r.adoptedApiLimit ? 'yes' : 'no',
    ]),
  );
}

export function ceilingTableText(runs: ReadonlyArray<ReturnType<typeof ceilingFigures>>): string {
  const rss = (u: { rssPeakMb?: number } | undefined) => (u?.rssPeakMb ? `${u.rssPeakMb} MB` : '–');
  return table(
    [
      'budget',
      'batches',
      'answers',
      'window',
      'classify s',
      'batches/s',
      'answers/s',
      'worker CPU',
      'worker RSS peak: batches / job',
      'dev server CPU',
      'bench CPU',
      'machine CPU',
      'CPU stall',
    ],
    runs.map((c) => [
      c.budget === 'budget' ? 'RPM + TPM (every request reserves)' : 'none',
      c.batches,
      c.rows,
      c.window,
      c.classifyS,
      c.batchesPerS,
      c.answersPerS,
      pct(c.cpuDuringRequests.worker),
      `${rss(c.cpuDuringRequests.worker)} / ${c.workerPeakRssMb ? `${c.workerPeakRssMb} MB` : rss(c.cpu.worker)}`,
      pct(c.cpuDuringRequests.temporal),
      pct(c.cpuDuringRequests.bench),
      pct(c.cpuDuringRequests.machine),
      c.cpuDuringRequests.machine?.cpuStallPercent === undefined
        ? '–'
        : `${Math.round(c.cpuDuringRequests.machine.cpuStallPercent)}%`,
    ]),
  );
}

/** Where each job's time went (ms, from its workflow history): one row per job. */
export function timelineTableText(rows: ReadonlyArray<{ label: string; f: JobFigures }>): string {
  return table(
    [
      'job',
      'wall',
      '1st task',
      'prepare',
      'to 1st batch',
      'batches',
      'finish',
      'write',
      'outside wf',
      'dispatch',
      'activity',
      'turnaround',
      'wf tasks',
      'wft wait',
      'wft run',
      'retries',
    ],
    rows.map(({ label, f }) => {
      const t = f.timeline;
      return [
        label,
        Math.round(f.wallS * 1000),
        t.firstTaskMs,
        t.prepareMs,
        t.toFirstBatchMs,
        t.batchesMs,
        t.finishMs,
        t.writeOutputMs,
        Math.round(f.wallS * 1000) - t.workflowMs,
        t.batchDispatchMs,
        t.batchRunMs,
        t.turnaroundMs,
        t.workflowTasks,
        t.workflowTaskDispatchMs,
        t.workflowTaskRunMs,
        t.retries,
      ];
    }),
  );
}

/** One line per job: the other processes that used the most CPU meanwhile (100% = one core). */
export function othersText(rows: ReadonlyArray<{ label: string; f: JobFigures }>): string {
  return rows
    .map(({ label, f }) => {
      const list = f.busiestOtherProcesses.map((p) => `${p.label} ${p.cpuPercent}%`).join(', ');
      return `   ${label}: ${list || 'nothing else busy'}`;
    })
    .join('\n');
}

export function multiTableText(runs: ReturnType<typeof multiFigures>): string {
  return table(
    [
      'coding',
      'codes/answer',
      'wall s',
      'classify s',
      'tokens/answer (prompt + completion)',
      'tokens vs single',
      'wall vs single',
      'API calls',
      'fallbacks',
      `×${SCALE_DIVISOR} wall`,
    ],
    runs.map((r) => [
      r.coding,
      r.codesPerAnswer,
      r.wallS,
      r.classifyS,
      `${r.tokensPerAnswer.total} (${r.tokensPerAnswer.prompt} + ${r.tokensPerAnswer.completion})`,
      r.totalTokensVsSingle === undefined ? '–' : `${r.totalTokensVsSingle}×`,
      r.wallVsSingle === undefined ? '–' : `${r.wallVsSingle}×`,
      r.apiCalls,
      r.fallbackBatches,
      `${r1(r.wallS / SCALE / 60)} min`,
    ]),
  );
}
