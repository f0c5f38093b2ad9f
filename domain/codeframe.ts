/**
 * The codeframe as the output and the reports see it: every label the model may give with its code, the
 * nets (derived, never coded), and the helpers that turn a row's labels into its category cell and its
 * 0/1 columns. Built from a job's flat category list, so old jobs (no codes, no nets) read as they were.
 */
import type { Category } from './categories.js';
import { FALLBACK_CODE, allowedLabels, categoryCodes, categoryKey, fallbackLabel } from './categories.js';

export interface CodedCategory {
  readonly name: string;
  readonly description?: string;
  readonly code: number;
  /** The net it belongs to, by name. */
  readonly net?: string;
  readonly fallback: boolean;
}

export interface Net {
  readonly name: string;
  readonly code?: number;
  /** Its categories' names, in codeframe order. */
  readonly categories: readonly string[];
}

export interface Codeframe {
  /** Every label the model may give, in codeframe order: the categories as listed, the fallback last unless listed. */
  readonly categories: readonly CodedCategory[];
  readonly fallback: CodedCategory;
  /** In the order their first category appears. */
  readonly nets: readonly Net[];
}

export function codeframeOf(categories: readonly Category[]): Codeframe {
  const codes = categoryCodes(categories);
  const fallbackName = fallbackLabel(categories);
  const listed: CodedCategory[] = categories.map((c, i) => ({
    name: c.name,
    ...(c.description ? { description: c.description } : {}),
    code: codes[i] ?? 0,
    ...(c.net ? { net: c.net } : {}),
    fallback: categoryKey(c.name) === categoryKey(fallbackName),
  }));
  const all =
    allowedLabels(categories).length > categories.length
      ? [...listed, { name: fallbackName, code: FALLBACK_CODE, fallback: true }]
      : listed;
  const nets = new Map<string, { name: string; code?: number; categories: string[] }>();
  categories.forEach((c) => {
    if (!c.net) return;
    const key = categoryKey(c.net);
    const net = nets.get(key) ?? {
      name: c.net,
      ...(c.netCode !== undefined ? { code: c.netCode } : {}),
      categories: [],
    };
    net.categories.push(c.name);
    nets.set(key, net);
  });
  const fallback = all.find((c) => c.fallback) ?? { name: fallbackName, code: FALLBACK_CODE, fallback: true };
  return { categories: all, fallback, nets: [...nets.values()] };
}

/** What separates labels in a category cell. */
export const LABEL_SEPARATOR = '; ';

/** A row's labels as its category cell shows them: in codeframe order, joined by "; ". */
export function joinLabels(labels: readonly string[]): string {
  return labels.join(LABEL_SEPARATOR);
}

/** Looks labels up in a codeframe, whatever their case and surrounding spaces. */
export class LabelIndex {
  private readonly byKey: Map<string, number>;

  constructor(readonly codeframe: Codeframe) {
    this.byKey = new Map(codeframe.categories.map((c, i) => [categoryKey(c.name), i]));
  }

  /** The label's position in the codeframe, or undefined when it is not a category of it. */
  position(label: string): number | undefined {
    return this.byKey.get(categoryKey(label));
  }

  /**
   * Labels in the codeframe's spelling and order, each once; labels not in the codeframe come after, in
   * the order given, each once (compared without case and spaces).
   */
  order(labels: Iterable<string>): { labels: string[]; unknown: string[] } {
    const known = new Set<number>();
    const unknown = new Map<string, string>();
    for (const label of labels) {
      const position = this.position(label);
      if (position !== undefined) known.add(position);
      else if (label.trim() !== '' && !unknown.has(categoryKey(label)))
        unknown.set(categoryKey(label), label.trim());
    }
    const ordered = [...known].sort((a, b) => a - b).map((p) => this.codeframe.categories[p]?.name ?? '');
    return { labels: [...ordered, ...unknown.values()], unknown: [...unknown.values()] };
  }

  /**
   * A category cell filled before the job (a half-coded file): in multi-code mode its labels are split on
   * `;`; in single-label mode the cell is one label, as it always was. Unknown labels are kept (the cell is
   * left as it is) and reported.
   */
  readCell(text: string, multi: boolean): { labels: string[]; unknown: string[] } {
    return this.order(multi ? text.split(';') : [text]);
  }
}

/**
 * The 0/1 columns of multi-code output, in order: one per category (`E2: Price`), then one per net
 * (`E2: NET Service`). `header` is the answer column's header.
 */
export function codeColumnHeaders(header: string, codeframe: Codeframe): string[] {
  return [
    ...codeframe.categories.map((c) => `${header}: ${c.name}`),
    ...codeframe.nets.map((n) => `${header}: NET ${n.name}`),
  ];
}

/**
 * Which of the 0/1 columns (as `codeColumnHeaders` lists them) hold a 1 for a row with these labels:
 * its categories, then the nets any of them belongs to. Labels not in the codeframe set none.
 */
export function codeColumnsSet(index: LabelIndex, labels: readonly string[]): number[] {
  const { codeframe } = index;
  const ones = new Set<number>();
  const nets = new Set<string>();
  for (const label of labels) {
    const position = index.position(label);
    if (position === undefined) continue;
    ones.add(position);
    const net = codeframe.categories[position]?.net;
    if (net) nets.add(categoryKey(net));
  }
  codeframe.nets.forEach((n, i) => {
    if (nets.has(categoryKey(n.name))) ones.add(codeframe.categories.length + i);
  });
  return [...ones].sort((a, b) => a - b);
}
