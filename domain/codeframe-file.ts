/**
 * The measured draft as a codeframe people review and `verbatim classify` reads: codes numbered in file
 * order, related codes under `[Net]` lines, Other last, and a `#` header that says it is a draft, where it
 * came from and how far to trust the shares. The same codes go into the table (categories.xlsx).
 */
import type { Category } from './categories.js';
import { FALLBACK_CODE, FALLBACK_LABEL, categoryCodes } from './categories.js';
import type { CodeShare, Measurement } from './codeframe-themes.js';
import { labelKey } from './codeframe-themes.js';

/** The fallback's number, as agencies keep it across questions (and as the codeframe parser numbers it). */
export const OTHER_CODE = FALLBACK_CODE;

export interface CodeframeCode {
  /** Its number: 1, 2, … in file order (97 skipped), as the categories parser numbers an unnumbered file. */
  readonly code: number;
  readonly label: string;
  readonly description: string;
  /** The net it is listed under, if any. */
  readonly net?: string;
  /** Estimated share of answers (from the measured sample). */
  readonly share: number;
  /** Drawn rows coded with it. */
  readonly measured: number;
  readonly examples: readonly string[];
}

export interface CodeframeNet {
  readonly name: string;
  /** Its codes' shares added up (one label per answer: the people who gave any of its codes). */
  readonly share: number;
  readonly codes: readonly number[];
}

export interface ArrangedCodeframe {
  /** In file order: codes outside any net first, then each net's codes. */
  readonly codes: readonly CodeframeCode[];
  readonly nets: readonly CodeframeNet[];
  readonly other: { readonly code: number; readonly label: string; readonly share: number };
}

/**
 * File order and numbers: codes outside a net first (the text form has no way back out of a net), by
 * share; then nets by share, each with its codes by share. A net of one code is no group: the code stands
 * alone. Numbers run 1, 2, … in that order and skip 97, which Other keeps.
 */
export function arrangeCodeframe(m: Measurement): ArrangedCodeframe {
  const byShare = (a: CodeShare, b: CodeShare) =>
    b.measured - a.measured || b.count - a.count || labelKey(a.label).localeCompare(labelKey(b.label));
  const groups = new Map<string, { name: string; codes: CodeShare[] }>();
  for (const c of m.kept) {
    const key = labelKey(c.net);
    if (key === '' || key === labelKey(FALLBACK_LABEL)) continue;
    const group = groups.get(key) ?? { name: c.net, codes: [] };
    group.codes.push(c);
    groups.set(key, group);
  }
  const nets = [...groups.values()].filter((g) => g.codes.length >= 2);
  const inNet = new Set(nets.flatMap((g) => g.codes));
  const share = (codes: readonly CodeShare[]) => codes.reduce((s, c) => s + c.measured, 0);
  nets.sort((a, b) => share(b.codes) - share(a.codes) || a.name.localeCompare(b.name));
  const ordered: Array<{ c: CodeShare; net?: string }> = [
    ...m.kept
      .filter((c) => !inNet.has(c))
      .sort(byShare)
      .map((c) => ({ c })),
    ...nets.flatMap((g) => [...g.codes].sort(byShare).map((c) => ({ c, net: g.name }))),
  ];
  // Numbered as the categories parser numbers the file written from them: the same list, the same codes.
  const numbers = categoryCodes(
    toCategories(
      ordered.map(({ c, net }) => ({ label: c.label, description: c.description, ...(net ? { net } : {}) })),
    ),
  );
  const codes = ordered.map(({ c, net }, i): CodeframeCode => ({
    code: numbers[i] ?? 0,
    label: c.label,
    description: c.description,
    ...(net ? { net } : {}),
    share: c.share,
    measured: c.measured,
    examples: c.examples,
  }));
  return {
    codes,
    nets: nets.map((g) => ({
      name: g.name,
      share: m.base > 0 ? share(g.codes) / m.base : 0,
      codes: codes.filter((c) => c.net === g.name).map((c) => c.code),
    })),
    other: { code: OTHER_CODE, label: FALLBACK_LABEL, share: m.base > 0 ? 1 - m.coverage : 0 },
  };
}

/** The codes as the codeframe's categories (names, descriptions, nets), in file order, Other left out. */
export function toCategories(
  codes: ReadonlyArray<{ readonly label: string; readonly description: string; readonly net?: string }>,
): Category[] {
  return codes.map((c) => ({
    name: c.label,
    ...(c.description ? { description: c.description } : {}),
    ...(c.net ? { net: c.net } : {}),
  }));
}

export const OTHER_DESCRIPTION = 'the answer fits none of the codes above';

export interface CodeframeFileMeta {
  readonly fileName: string;
  readonly column: string;
  readonly sheet?: string;
  /** The day it was generated, `YYYY-MM-DD`. */
  readonly date: string;
  readonly model: string;
  readonly simulated: boolean;
  readonly coverage: number;
  /** Rows measured (the base of the shares). */
  readonly base: number;
  readonly minShare: number;
  readonly folded: ReadonlyArray<{ readonly label: string; readonly share: number }>;
  /** Codes cut because the draft had more than `--max-codes`. */
  readonly overflow: readonly string[];
  /** What the reviewer runs next; the categories file's own name goes last. */
  readonly classifyCommand: string;
}

export function percent(share: number): string {
  return `${(Math.round(share * 1000) / 10).toFixed(1)} %`;
}

/**
 * The categories file: the `#` header, then `Label: description` lines and `[Net]` lines in the order of
 * `arrangeCodeframe`, and `Other` last (outside every net). The text form `verbatim classify` reads.
 */
export function formatCategoriesText(cf: ArrangedCodeframe, meta: CodeframeFileMeta): string {
  const where = `${JSON.stringify(meta.fileName)}, column ${meta.column}${meta.sheet ? `, sheet ${meta.sheet}` : ''}`;
  const header = [
    `# DRAFT codeframe for ${where}, generated by verbatim on ${meta.date} (${meta.model}).`,
    ...(meta.simulated
      ? [
          '# SIMULATED: the built-in simulator answered (no OPENAI_API_KEY), not a model: these are not real codes.',
        ]
      : []),
    `# Coverage: ${percent(meta.coverage)} of answers fit a code. Shares are estimates from a sample of ${meta.base} answers.`,
    ...(meta.folded.length > 0
      ? [
          `# Folded into Other (under ${percent(meta.minShare)}): ${meta.folded.map((f) => `${f.label} (${percent(f.share)})`).join(', ')}.`,
        ]
      : []),
    ...(meta.overflow.length > 0 ? [`# Left out (more than --max-codes): ${meta.overflow.join(', ')}.`] : []),
    '# Review it: merge, split, rename, reword descriptions (they guide the model), then code with',
    `#   ${meta.classifyCommand}`,
    '# One code a line, "Label: description", numbered 1, 2, … in this order; a [Net] line groups the codes below it.',
  ];
  const lines = [...header, ''];
  let net: string | undefined;
  for (const c of cf.codes) {
    if (c.net !== net) {
      lines.push('', `[${c.net ?? ''}]`);
      net = c.net;
    }
    lines.push(c.description ? `${c.label}: ${c.description}` : c.label);
  }
  lines.push('', `${cf.other.label}: ${OTHER_DESCRIPTION}`, '');
  return lines.join('\n').replace(/\n{3,}/g, '\n\n');
}

export const TABLE_HEADER = [
  'Code',
  'Label',
  'Description',
  'Net',
  'Estimated share',
  'Example 1',
  'Example 2',
  'Example 3',
] as const;

/** The table's rows (after `TABLE_HEADER`): the codes in file order, then Other. Shares as fractions. */
export function codeframeTableRows(cf: ArrangedCodeframe): Array<Array<string | number>> {
  return [
    ...cf.codes.map((c) => [
      c.code,
      c.label,
      c.description,
      c.net ?? '',
      c.share,
      c.examples[0] ?? '',
      c.examples[1] ?? '',
      c.examples[2] ?? '',
    ]),
    [cf.other.code, cf.other.label, OTHER_DESCRIPTION, '', cf.other.share, '', '', ''],
  ];
}

/** Everything the draft's reader needs, examples included: codeframe-report.json, for the CLI and the API. */
export interface CodeframeReport {
  readonly codeframeId: string;
  readonly fileName: string;
  readonly column: string;
  readonly sheet?: string;
  readonly question: string;
  /** When it was written (ISO). */
  readonly writtenAt: string;
  readonly model: string;
  readonly simulated: boolean;
  readonly codes: readonly CodeframeCode[];
  readonly nets: readonly CodeframeNet[];
  readonly other: ArrangedCodeframe['other'];
  readonly folded: ReadonlyArray<{
    readonly label: string;
    readonly share: number;
    readonly measured: number;
  }>;
  /** Codes left out because the draft had more than --max-codes. */
  readonly overflow: readonly string[];
  readonly minShare: number;
  readonly coverage: number;
  /** Rows measured (the base of every share), and of those coded with a code of the codeframe. */
  readonly base: number;
  readonly covered: number;
  /** Rows drawn to measure, and measuring batches whose retries ran out (their rows are not in the base). */
  readonly sampleRows: number;
  readonly measureFailed: number;
  /** What reading the file noticed, for the person to check (each names its rows). */
  readonly warnings: readonly string[];
  /** File names in the draft's folder. */
  readonly files: { readonly txt: string; readonly xlsx: string };
}

/** The report without its example answers: what the workflow returns (history holds no answers). */
export type CodeframeSummary = Omit<CodeframeReport, 'codes'> & {
  readonly codes: ReadonlyArray<Omit<CodeframeCode, 'examples'>>;
};
