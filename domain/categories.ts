import type { CodeframePlace } from './errors.js';
import {
  DuplicateCategoriesError,
  DuplicateCodeError,
  EmptyCategoriesError,
  OnlyFallbackCategoryError,
  InvalidCategoryError,
  TooManyCategoriesError,
} from './errors.js';

/**
 * One category of the codeframe, as stored in a job (job.json) and hashed into its content id. Only what
 * differs from the defaults is there: a codeframe numbered 1…n in file order carries no `code`, one
 * without nets no `net`, so the jobs of codeframes written before either existed keep their ids.
 */
export interface Category {
  readonly name: string;
  readonly description?: string;
  /** Its number for tabulation; absent when the codeframe's numbers are the default (see `codeframeOf`). */
  readonly code?: number;
  /** The net it belongs to: a group of categories counted together, never coded directly. */
  readonly net?: string;
  /** The net's own code (`[100 Service]`), the same on every category of the net. */
  readonly netCode?: number;
}

/** The label given to rows the model cannot code, to invalid answers and to batches whose retries ran out. */
export const FALLBACK_LABEL = 'Other';
/** The fallback's code unless the codeframe numbers it: agencies keep 97 for "Other" across questions. */
export const FALLBACK_CODE = 97;

const MAX_NAME_LENGTH = 120;
const MAX_DESCRIPTION_LENGTH = 1_000;
export const MAX_CATEGORIES = 500;
/** Codes are whole numbers from 1; nine digits leave room for any agency scheme and stay exact everywhere. */
export const MAX_CODE = 999_999_999;

/** A category as read, with where it was read (for errors that name the line or row). */
interface Entry {
  readonly line: number;
  readonly name: string;
  readonly description?: string;
  readonly code?: number;
  readonly net?: NetEntry;
}

interface NetEntry {
  readonly line: number;
  readonly name: string;
  readonly code?: number;
}

/** Where a list of entries came from, for errors. */
interface Origin {
  readonly source: string;
  readonly place: CodeframePlace;
}

/**
 * Parses a categories file: one category per line, `Name` or `Name: description`, optionally led by its
 * code (`101 Price: cheap, promos`). A line `[Net name]` (or `[100 Net name]`) starts a net: the
 * categories below it, up to the next `[…]` line, belong to it; those before the first net line belong to
 * none, and so does the fallback (`Other`) wherever it is listed. Blank lines and lines starting with `#`
 * are skipped; list bullets (`-`, `*`, `1.`, `2)`) are dropped, so a numbered list is not taken for codes.
 */
export function parseCategories(text: string, source = 'categories'): Category[] {
  const origin: Origin = { source, place: 'line' };
  const lines = new LineReader(origin);
  text.split(/\r?\n/).forEach((raw, i) => lines.read(raw, i + 1));
  return checkCategories(lines.end(), origin);
}

/**
 * Categories given as a list (API, JSON): each string is read as a line of the text form (nets and codes
 * included), each object is taken as it is (a colon in an object's name stays in the name).
 */
export function categoriesFromList(
  items: ReadonlyArray<string | Category>,
  source = 'categories',
): Category[] {
  const origin: Origin = { source, place: 'line' };
  const lines = new LineReader(origin);
  items.forEach((item, i) => {
    if (typeof item === 'string') {
      lines.read(item.replace(/\r?\n/g, ' '), i + 1);
      return;
    }
    const description = item.description?.replace(/\s+/g, ' ').trim();
    const netName = item.net?.replace(/\s+/g, ' ').trim();
    lines.add({
      line: i + 1,
      name: item.name.replace(/\s+/g, ' ').trim(),
      ...(description ? { description } : {}),
      ...(item.code !== undefined ? { code: checkCode(item.code, i + 1, item.name, origin) } : {}),
      ...(netName
        ? {
            net: {
              line: i + 1,
              name: netName,
              ...(item.netCode !== undefined
                ? { code: checkCode(item.netCode, i + 1, netName, origin) }
                : {}),
            },
          }
        : {}),
    });
  });
  return checkCategories(lines.end(), origin);
}

/** One row of a codeframe given as a spreadsheet (`code`, `label`, `description`, `net`), as cell texts. */
export interface CodeframeRow {
  /** The row's number in the sheet (or the record's in a CSV file), for errors. */
  readonly row: number;
  readonly code?: string;
  readonly label: string;
  readonly description?: string;
  /** The net's name, optionally led by its code (`100 Service`), as a `[…]` line holds it. */
  readonly net?: string;
}

/**
 * A codeframe given as a table: the same rules as the text form, a row per category. Rows with nothing in
 * them are skipped; a row with a code, description or net but no label is an error naming the row.
 */
export function categoriesFromRows(rows: readonly CodeframeRow[], source: string): Category[] {
  const origin: Origin = { source, place: 'row' };
  const entries: Entry[] = [];
  for (const r of rows) {
    const code = r.code?.trim() ?? '';
    const label = r.label.replace(/\s+/g, ' ').trim();
    const description = r.description?.replace(/\s+/g, ' ').trim() ?? '';
    const netText = r.net?.replace(/\s+/g, ' ').trim() ?? '';
    if (!code && !label && !description && !netText) continue;
    if (!label)
      throw new InvalidCategoryError(r.row, code || netText || description, 'has no label', source, 'row');
    if (code && !/^\d+$/.test(code)) {
      throw new InvalidCategoryError(
        r.row,
        label,
        `has code ${JSON.stringify(code)}: codes are whole numbers from 1`,
        source,
        'row',
      );
    }
    const net = netText ? netEntry(netText, r.row, origin) : undefined;
    entries.push({
      line: r.row,
      name: label,
      ...(description ? { description } : {}),
      ...(code ? { code: checkCode(Number(code), r.row, label, origin) } : {}),
      ...(net ? { net } : {}),
    });
  }
  return checkCategories(entries, origin);
}

/**
 * Reads lines in order: a `[…]` line opens a net that the categories after it join, up to the next one.
 * A net line that no category follows is an error (a net counts its categories: an empty one is a slip).
 */
class LineReader {
  private readonly entries: Entry[] = [];
  private net: NetEntry | undefined;
  private netUsed = true;

  constructor(private readonly origin: Origin) {}

  read(raw: string, line: number): void {
    const read = parseLine(raw, line, this.origin);
    if (read?.kind === 'net') {
      this.checkNetUsed();
      this.net = read.net;
      this.netUsed = false;
    } else if (read) this.add(read.entry);
  }

  add(entry: Entry): void {
    // The fallback is never in a net: listed last, below the last net, it stays outside it.
    if (isFallback(entry.name) && !entry.net) {
      this.entries.push(entry);
      return;
    }
    this.netUsed = true;
    this.entries.push(this.net && !entry.net ? { ...entry, net: this.net } : entry);
  }

  end(): Entry[] {
    this.checkNetUsed();
    return this.entries;
  }

  private checkNetUsed(): void {
    if (this.net && !this.netUsed) {
      throw new InvalidCategoryError(
        this.net.line,
        `[${this.net.name}]`,
        'starts a net that no category follows: list its categories below it',
        this.origin.source,
        this.origin.place,
      );
    }
  }
}

type ReadLine = { kind: 'category'; entry: Entry } | { kind: 'net'; net: NetEntry } | undefined;

/** One line: a category, a net line, or nothing (blank, `#`). */
function parseLine(raw: string, line: number, origin: Origin): ReadLine {
  const text = raw.replace(/^\uFEFF/, '').trim();
  if (text === '' || text.startsWith('#')) return undefined;
  if (text.startsWith('[')) {
    if (!text.endsWith(']')) {
      throw new InvalidCategoryError(
        line,
        text,
        'opens a net with "[" but does not close it with "]"',
        origin.source,
      );
    }
    return { kind: 'net', net: netEntry(text.slice(1, -1), line, origin) };
  }
  const unbulleted = text.replace(/^(?:[-*•]|\d+[.)])\s+/u, '');
  const { code, rest } = leadingCode(unbulleted, line, origin);
  const colon = rest.indexOf(':');
  const name = (colon === -1 ? rest : rest.slice(0, colon)).trim();
  const description = colon === -1 ? undefined : rest.slice(colon + 1).trim() || undefined;
  return {
    kind: 'category',
    entry: { line, name, ...(description ? { description } : {}), ...(code !== undefined ? { code } : {}) },
  };
}

/** `100 Service` → code 100, name Service; `Service` → name only. */
function netEntry(text: string, line: number, origin: Origin): NetEntry {
  const { code, rest } = leadingCode(text.trim(), line, origin);
  const name = rest.replace(/\s+/g, ' ').trim();
  if (name === '') throw new InvalidCategoryError(line, text, 'names no net', origin.source, origin.place);
  if (name.length > MAX_NAME_LENGTH) {
    throw new InvalidCategoryError(
      line,
      name,
      `names a net longer than ${MAX_NAME_LENGTH} characters`,
      origin.source,
      origin.place,
    );
  }
  return { line, name, ...(code !== undefined ? { code } : {}) };
}

/** A code is digits then a space at the start (`101 Price`); `24/7 support` or `3D` stay names. */
function leadingCode(text: string, line: number, origin: Origin): { code?: number; rest: string } {
  const match = /^(\d+)\s+(\S.*)$/su.exec(text);
  if (!match) return { rest: text };
  const [, digits = '', rest = ''] = match;
  return { code: checkCode(Number(digits), line, rest, origin), rest };
}

function checkCode(code: number, line: number, name: string, origin: Origin): number {
  if (!Number.isInteger(code) || code < 1 || code > MAX_CODE) {
    throw new InvalidCategoryError(
      line,
      name,
      `has code ${code}: codes are whole numbers from 1 to ${MAX_CODE}`,
      origin.source,
      origin.place,
    );
  }
  return code;
}

function checkCategories(entries: readonly Entry[], origin: Origin): Category[] {
  const { source, place } = origin;
  if (entries.length === 0) throw new EmptyCategoriesError(source);
  if (entries.length > MAX_CATEGORIES) {
    throw new TooManyCategoriesError(entries.length, MAX_CATEGORIES);
  }
  const seen = new Map<string, string>();
  const duplicates: string[] = [];
  for (const entry of entries) {
    if (entry.name === '')
      throw new InvalidCategoryError(entry.line, entry.name, 'has no name before the colon', source, place);
    if (entry.name.length > MAX_NAME_LENGTH) {
      throw new InvalidCategoryError(
        entry.line,
        entry.name,
        `is longer than ${MAX_NAME_LENGTH} characters`,
        source,
        place,
      );
    }
    if ((entry.description?.length ?? 0) > MAX_DESCRIPTION_LENGTH) {
      throw new InvalidCategoryError(
        entry.line,
        entry.name,
        `has a description longer than ${MAX_DESCRIPTION_LENGTH}`,
        source,
        place,
      );
    }
    const key = categoryKey(entry.name);
    if (seen.has(key)) duplicates.push(entry.name);
    else seen.set(key, entry.name);
  }
  if (duplicates.length > 0) throw new DuplicateCategoriesError(duplicates);

  const nets = checkNets(entries, origin);
  // The fallback alone would code every answer the same after a model call per batch: nothing to learn.
  if (entries.every((e) => isFallback(e.name)))
    throw new OnlyFallbackCategoryError(source, entries[0]?.name ?? '');
  const codes = assignCodes(entries, nets, origin);
  // Codes are stored only when they are not the default numbering, so that a file numbered 1…n and the
  // same file unnumbered (or given as a spreadsheet) make the same job.
  const defaults = defaultCodes(entries);
  const explicit = entries.some((_, i) => codes[i] !== defaults[i]);
  return entries.map((e, i): Category => {
    const net = e.net ? nets.get(categoryKey(e.net.name)) : undefined;
    return {
      name: e.name,
      ...(e.description ? { description: e.description } : {}),
      ...(explicit ? { code: codes[i] ?? 0 } : {}),
      ...(net ? { net: net.name } : {}),
      ...(net?.code !== undefined ? { netCode: net.code } : {}),
    };
  });
}

/**
 * The nets, by key: the first spelling and line of each, its code if any line gives one. A net listed
 * twice gathers the categories of both places; two different codes for one net, a net with no
 * categories, or the fallback inside a net are errors.
 */
function checkNets(entries: readonly Entry[], origin: Origin): Map<string, NetEntry> {
  const nets = new Map<string, NetEntry>();
  for (const entry of entries) {
    if (!entry.net) continue;
    if (isFallback(entry.name)) {
      throw new InvalidCategoryError(
        entry.line,
        entry.name,
        `is the fallback and cannot belong to the net ${JSON.stringify(entry.net.name)}: invalid answers and failed batches are coded with it`,
        origin.source,
        origin.place,
      );
    }
    const key = categoryKey(entry.net.name);
    const known = nets.get(key);
    if (!known) nets.set(key, entry.net);
    else if (entry.net.code !== undefined) {
      if (known.code !== undefined && known.code !== entry.net.code) {
        throw new InvalidCategoryError(
          entry.net.line,
          entry.net.name,
          `gives the net code ${entry.net.code}, but ${origin.place} ${known.line} gave it ${known.code}`,
          origin.source,
          origin.place,
        );
      }
      nets.set(key, { ...known, code: entry.net.code });
    }
  }
  return nets;
}

/**
 * Each entry's code: its own, else the lowest number no other category, net or the fallback holds (so an
 * unnumbered codeframe is 1…n in file order, skipping the fallback's 97). Duplicates are errors naming both.
 */
function assignCodes(
  entries: readonly Entry[],
  nets: ReadonlyMap<string, NetEntry>,
  origin: Origin,
): number[] {
  const holders = new Map<number, { line: number; name: string }>();
  const hold = (code: number, holder: { line: number; name: string }) => {
    const first = holders.get(code);
    if (first) {
      const [a, b] = first.line <= holder.line ? [first, holder] : [holder, first];
      throw new DuplicateCodeError(code, a, b, origin.source, origin.place);
    }
    holders.set(code, holder);
  };
  const fallback = entries.find((e) => isFallback(e.name));
  if (fallback?.code === undefined) {
    // Line 0: the fallback holds 97 by rule, not by a line of the file.
    holders.set(FALLBACK_CODE, { line: 0, name: fallback?.name ?? FALLBACK_LABEL });
  }
  for (const e of entries) if (e.code !== undefined) hold(e.code, { line: e.line, name: e.name });
  for (const n of nets.values())
    if (n.code !== undefined) hold(n.code, { line: n.line, name: `[${n.name}]` });
  let next = 1;
  return entries.map((e) => {
    if (e.code !== undefined) return e.code;
    if (isFallback(e.name)) return FALLBACK_CODE;
    while (holders.has(next)) next += 1;
    holders.set(next, { line: e.line, name: e.name });
    return next;
  });
}

/** The codes an unnumbered codeframe of these categories gets: 1…n in order, the fallback 97. */
function defaultCodes(entries: ReadonlyArray<{ readonly name: string }>): number[] {
  let next = 1;
  return entries.map((e) => {
    if (isFallback(e.name)) return FALLBACK_CODE;
    if (next === FALLBACK_CODE) next += 1;
    return next++;
  });
}

/**
 * Every category's code as the codeframe says it: its stored code, or the default numbering (1…n in order,
 * skipping 97; the fallback 97). Old jobs' categories have no codes and get the default.
 */
export function categoryCodes(categories: readonly Category[]): number[] {
  const defaults = defaultCodes(categories);
  return categories.map((c, i) => c.code ?? defaults[i] ?? 0);
}

function isFallback(name: string): boolean {
  return categoryKey(name) === categoryKey(FALLBACK_LABEL);
}

export function categoryKey(name: string): string {
  return name.normalize('NFKC').trim().toLowerCase();
}

/** The labels the model may answer with: the categories, plus the fallback label unless already listed. */
export function allowedLabels(categories: readonly Category[]): string[] {
  const names = categories.map((c) => c.name);
  const hasFallback = names.some(isFallback);
  return hasFallback ? names : [...names, FALLBACK_LABEL];
}

/** The fallback label as the categories spell it (`other`, `OTHER`), so the output never has two spellings. */
export function fallbackLabel(categories: readonly Category[]): string {
  return categories.find((c) => isFallback(c.name))?.name ?? FALLBACK_LABEL;
}
