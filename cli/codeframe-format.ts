/** Terminal formatting of a codeframe draft: the progress line while it runs, the table at the end. */
import type { CodeframeReport } from '../domain/codeframe-file.js';
import { percent } from '../domain/codeframe-file.js';
import type { CodeframeProgress } from '../domain/codeframe-job.js';
import { formatCount, formatDuration } from './format.js';

/** `extracting · chunks 3/7 (2 in flight) · 45 themes · 5 calls · 12,345 tokens · 4s` */
export function codeframeProgressLine(p: CodeframeProgress): string {
  const parts: string[] = [p.phase];
  if (p.phase === 'reading') parts.push('reading the column');
  if (p.chunks.total > 0) {
    const failed = p.chunks.failed > 0 ? `, ${p.chunks.failed} failed` : '';
    const flight =
      p.phase === 'extracting'
        ? ` (${p.chunks.inFlight} in flight${failed})`
        : failed
          ? ` (${failed.slice(2)})`
          : '';
    parts.push(`chunks ${p.chunks.done}/${p.chunks.total}${flight}`);
  }
  if (p.themes > 0) parts.push(`${formatCount(p.themes)} themes`);
  if (p.merge.round > 0) parts.push(`merge round ${p.merge.round}`);
  if (p.measure.batches > 0) parts.push(`measuring ${p.measure.done}/${p.measure.batches}`);
  parts.push(`${formatCount(p.apiCalls)} calls`, `${formatCount(p.tokens.total)} tokens`);
  if (p.rateLimited > 0) parts.push(`${p.rateLimited}×429`);
  parts.push(formatDuration(p.elapsedSeconds));
  return parts.join(' · ');
}

function cut(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text.padEnd(width) : `${chars.slice(0, width - 1).join('')}…`;
}

export interface TableOptions {
  /** Terminal width; the description and example columns share what is left. */
  readonly columns: number;
  readonly seconds: number;
  readonly calls: CodeframeProgress['calls'];
  readonly tokens: number;
  readonly txt: string;
  readonly xlsx: string;
  /** The command that codes with the file, for the last line. */
  readonly next: string;
}

/**
 * The draft as a table: code, label, estimated share, description, one example answer; each net's line
 * above its codes; Other; what was folded; the cost; where the files are.
 */
export function codeframeTable(r: CodeframeReport, o: TableOptions): string {
  const labelWidth = Math.min(
    30,
    Math.max(5, ...r.codes.map((c) => [...c.label].length), [...r.other.label].length) + 1,
  );
  const rest = Math.max(40, o.columns - 1 - (6 + labelWidth + 9) - 4);
  const describeWidth = Math.floor(rest * 0.45);
  const exampleWidth = rest - describeWidth;
  const row = (code: string, label: string, share: string, description: string, example: string) =>
    `${code.padStart(5)}  ${cut(label, labelWidth)}${share.padStart(7)}  ${cut(description, describeWidth)}  ${cut(example, exampleWidth)}`.trimEnd();
  const lines: string[] = [''];
  if (r.simulated) {
    lines.push(
      '⚠ SIMULATED — no OPENAI_API_KEY: the built-in simulator drafted this, not a model. Not real codes.',
    );
  }
  lines.push(
    `Draft codeframe: ${r.codes.length} codes for ${r.fileName}, column ${r.column} · coverage ${percent(r.coverage)} (estimated from a sample of ${formatCount(r.base)} answers)`,
    '',
    row('Code', 'Label', 'Share', 'Description', 'Example'),
  );
  let net: string | undefined;
  for (const c of r.codes) {
    if (c.net !== net && c.net !== undefined) {
      const share = r.nets.find((n) => n.name === c.net)?.share ?? 0;
      lines.push(row('', `[${c.net}]`, percent(share), '', ''));
    }
    net = c.net;
    const example = c.examples[0];
    lines.push(row(String(c.code), c.label, percent(c.share), c.description, example ? `"${example}"` : ''));
  }
  lines.push(row(String(r.other.code), r.other.label, percent(r.other.share), 'answers no code fits', ''));
  lines.push('');
  if (r.folded.length > 0) {
    lines.push(
      `Folded into Other (under ${percent(r.minShare)}): ${r.folded.map((f) => `${f.label} (${percent(f.share)})`).join(', ')}`,
    );
  }
  if (r.overflow.length > 0) lines.push(`Left out (more than --max-codes): ${r.overflow.join(', ')}`);
  for (const w of r.warnings) lines.push(`Reading the file: ${w}`);
  lines.push(
    `Shares are estimates from a sample of ${formatCount(r.base)} answers${r.measureFailed > 0 ? ` (${r.measureFailed} measuring batches failed and are not counted)` : ''}.`,
    '',
    `API calls: ${formatCount(o.calls.extract + o.calls.merge + o.calls.measure)} (${o.calls.extract} theme extraction, ${o.calls.merge} merge, ${o.calls.measure} measuring) · tokens: ${formatCount(o.tokens)} · time: ${formatDuration(o.seconds)}`,
    `Wrote ${o.txt}`,
    `  and ${o.xlsx} (the same codes, with up to three example answers each).`,
    `Review and edit the draft, then: ${o.next}`,
    '',
  );
  return lines.join('\n');
}
