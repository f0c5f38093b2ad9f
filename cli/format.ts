import type { CostEstimate } from '../domain/cost.js';
import { formatCost, formatJobCost } from '../domain/cost.js';
import { batchApiLine } from '../domain/batch-api.js';
import type { JobProgress, JobStats } from '../domain/job.js';

/** Terminal formatting for progress and the final stats block. */

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(r).padStart(2, '0')}s`;
  return `${r}s`;
}

const int = new Intl.NumberFormat('en-US');

export function formatCount(n: number): string {
  return int.format(n);
}

export function progressFraction(p: JobProgress): number {
  return p.rows.total === 0 ? (p.phase === 'done' ? 1 : 0) : p.rows.done / p.rows.total;
}

/** `[█████░░░░░] 52% 1,290/2,482 rows · 775/min · ETA 1m 05s · batches 129/249 (5 in flight) · 0 fallbacks` */
export function progressLine(p: JobProgress, width = 24): string {
  const fraction = progressFraction(p);
  const filled = Math.round(fraction * width);
  const bar = `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
  const pct = `${Math.floor(fraction * 100)}%`.padStart(4);
  const parts = [
    `${bar} ${pct} ${formatCount(p.rows.done)}/${formatCount(p.rows.total)} rows`,
    p.phase === 'classifying' ? `${formatCount(Math.round(p.ratePerMinute))}/min` : p.phase,
  ];
  if (p.phase === 'classifying' && p.batchApi && p.batchApi.stage !== 'synchronous') {
    // Waiting on OpenAI's batches: their state says more than a rate or an ETA would.
    parts[1] = batchApiLine(p.batchApi);
  } else if (p.phase === 'classifying') {
    if (p.etaSeconds !== null) parts.push(`ETA ${formatDuration(p.etaSeconds)}`);
    parts.push(
      `batches ${formatCount(p.batches.done)}/${formatCount(p.batches.total)} (${p.batches.inFlight} in flight)`,
    );
    if (p.window.size < p.window.max) parts.push(`window ${p.window.size}/${p.window.max}`);
  }
  parts.push(`${p.batches.fallback} fallback${p.batches.fallback === 1 ? '' : 's'}`);
  if (p.rateLimited > 0) parts.push(`${p.rateLimited}×429`);
  if (p.cost) {
    const cap = p.cost.maxCost !== null ? ` of ${formatCost(p.cost.maxCost)} cap` : '';
    // While preparing, the plan (and with it the model's price) is not known yet: a null total then means
    // "nothing priced so far", not "cost unknown". Nothing is shown until the plan says which it is.
    if (p.cost.total !== null || p.phase !== 'preparing') parts.push(`${formatJobCost(p.cost)}${cap}`);
    else if (p.cost.maxCost !== null) parts.push(`cap ${formatCost(p.cost.maxCost)}`);
  }
  if (p.paused) parts.push('PAUSED');
  if (p.cost?.capReached)
    parts.push(`HELD AT COST CAP: next request up to ${formatCost(p.cost.nextRequest)}`);
  return parts.join(' · ');
}

/** The stats block the original tool printed at the end of a run. */
export function statsBlock(stats: JobStats, p: JobProgress, output: string, simulated: boolean): string {
  const lines = [
    '',
    `${simulated ? '⚠ SIMULATED — ' : ''}Coded ${formatCount(p.rows.classified)} answers (${formatCount(p.uniqueAnswers)} unique) of ${formatCount(p.rows.total)} rows`,
    `  Total time:        ${formatDuration(stats.totalSeconds)} (classification ${formatDuration(stats.classifySeconds)})`,
    `  Rate:              ${formatCount(Math.round(stats.ratePerMinute))} responses/minute`,
    `  Speedup:           ${stats.speedup.toFixed(1)}× against the sequential estimate (${formatDuration(stats.sequentialEstimateSeconds)})`,
    `  API calls:         ${formatCount(stats.apiCalls)} (${stats.rateLimited} rate-limited)`,
    `  Tokens:            ${formatCount(stats.tokens)}`,
    ...(p.cost ? [`  Cost:              ${formatJobCost(p.cost)}`] : []),
    `  Empty / invalid / already coded: ${formatCount(p.rows.empty)} / ${formatCount(p.rows.invalid)} / ${formatCount(p.rows.alreadyCoded)}`,
    `  Fallbacks:         ${stats.fallbackBatches} batches, ${formatCount(stats.fallbackRows)} rows coded "Other"${stats.fallbackBatches > 0 ? ' (reasons in the Run sheet)' : ''}`,
    `  Output:            ${output}`,
    '',
  ];
  return lines.join('\n');
}

/** What `classify --estimate` prints: requests, tokens and the cost, synchronous and in Batch API mode. */
export function estimateBlock(e: CostEstimate, fileName: string, column: string): string {
  const cost =
    e.cost.sync === null
      ? `cost unknown: ${e.model} is not in the price table; set OPENAI_PRICE_INPUT and OPENAI_PRICE_OUTPUT`
      : `${formatCost(e.cost.sync)} synchronous, ${formatCost(e.cost.batch)} in Batch API mode (${e.priceSource ?? ''})`;
  return [
    `Estimate for ${fileName}, column ${column}, with ${e.model}:`,
    `  Requests:          ${formatCount(e.requests)}`,
    `  Rows to code:      ${formatCount(e.rows)} (${formatCount(e.answers)} unique answers)`,
    `  Input tokens:      ${formatCount(e.inputTokens)}`,
    `  Output tokens:     ${formatCount(e.outputTokens)}`,
    `  Cost:              ${cost}`,
    'Nothing was sent to the model and no job started.',
    '',
  ].join('\n');
}
