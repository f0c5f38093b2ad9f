/**
 * SPSS system files (.sav), written as the cases stream in: numeric and string variables (UTF-8, up to 32,767
 * bytes), variable and value labels, user-missing values, measurement levels, and multiple response sets.
 * Generic: it knows variables and cases, not surveys.
 *
 * Written from the public format description (GNU PSPP developers' guide, "System File Format") and checked
 * against Debian's `pspp`, which reads every file the tests write. Our own rather than an npm package because
 * the ones there (`sav-writer`, `@codious/sav-reader-writer`) write no multiple response sets, and are
 * single-release packages we would have to fix anyway.
 *
 * File layout, in order: header; one variable record per 8 bytes of case data (a string over 255 bytes is
 * split into 255-byte "segments", each its own variable); value labels (types 3 and 4); extension records
 * 3 (integer info, codepage 65001), 4 (float info), 7 (response sets SPSS reads since before version 14),
 * 11 (measure, display width, alignment), 13 (long names), 14 (very long strings), 19 (dichotomy sets
 * labelled by counted values), 20 (encoding "UTF-8"), 21 (labels of strings over 8 bytes); 999; the cases,
 * bytecode-compressed by default. The case count is patched into the header on close.
 */
import type { FileHandle } from 'node:fs/promises';
import fs from 'node:fs/promises';
import { tempName } from '../lib/atomic-write.js';

/** A cell: a number for a numeric variable, text for a string one; null (or undefined) is missing. */
export type SavValue = number | string | null | undefined;

export interface SavVariable {
  /** Suggested name, e.g. the column header: made valid and unique as `makeVariableNames` does. */
  name: string;
  /** Variable label, e.g. the header or question text: whitespace collapsed, cut at 255 bytes. */
  label?: string;
  type: 'numeric' | 'string';
  /**
   * String width in UTF-8 bytes, 1–32,767: `openSavWriter` needs it; `writeSav` measures the longest value
   * when it is missing. Longer values are cut (at a character boundary) and counted in the summary.
   */
  width?: number;
  /** Decimal places a numeric variable is shown with (format F8.d), 0–16; default 2, as in SPSS. */
  decimals?: number;
  /** Value → label; values of the variable's type, labels cut at 120 bytes (SPSS's documented maximum). */
  valueLabels?: ReadonlyArray<readonly [number | string, string]>;
  /**
   * Numbers declared user-missing (a numeric variable, at most 3): SPSS leaves them out of valid counts and
   * percentages but shows them, with their value labels, as missing, where system-missing says nothing.
   */
  missingValues?: readonly number[];
  /** Default: nominal for strings and for numbers with value labels, else scale. Strings cannot be scale. */
  measure?: 'nominal' | 'ordinal' | 'scale';
}

/**
 * A multiple response set. `name` is a suggestion with or without the leading `$` (made valid and unique
 * among the sets); `variables` are final variable names (as `makeVariableNames` returns them), at least two,
 * all of one type; `label` is cut at 255 bytes.
 */
export type SavMultipleResponseSet =
  | {
      kind: 'dichotomy';
      name: string;
      label: string;
      /** The value that counts as "mentioned": an integer for numeric variables, else a string. */
      countedValue: number | string;
      variables: readonly string[];
      /**
       * Where each category's label comes from: each variable's label (`variable-labels`, the default, the
       * form every SPSS version reads: record 7 `D`), or the value label of the counted value
       * (`counted-values`: SPSS 14 and later, record 19 `E`).
       */
      categoryLabels?: 'variable-labels' | 'counted-values';
    }
  | { kind: 'category'; name: string; label: string; variables: readonly string[] };

export interface SavWriterOptions {
  variables: readonly SavVariable[];
  mrsets?: readonly SavMultipleResponseSet[];
  /** File label, cut at 64 bytes. */
  fileLabel?: string;
  /** `bytecode` (default) stores small integers in one byte, which shrinks 0/1 data about eightfold. */
  compression?: 'bytecode' | 'none';
  /** Creation time written in the header; default now. */
  created?: Date;
}

export interface SavSummary {
  path: string;
  cases: number;
  /** String values longer than their variable's width, cut to it. */
  truncatedValues: number;
}

export interface SavWriter {
  /** Final variable names, in the order of `variables`. */
  readonly names: readonly string[];
  /** Final response set names, with their `$`, in the order of `mrsets`. */
  readonly setNames: readonly string[];
  /**
   * Appends a case: one value per variable. Await it: it resolves at once unless a buffer went to disk,
   * and awaiting is what keeps memory bounded.
   */
  writeCase(values: readonly SavValue[]): Promise<void>;
  /** Writes what is buffered, patches the case count, and moves the file into place. */
  close(): Promise<SavSummary>;
  /** Drops the file. */
  abort(): Promise<void>;
}

/** Thrown when the variables or sets cannot be written as given. */
export class SavSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Thrown by `writeCase` for a case that does not fit the variables. */
export class SavValueError extends Error {
  constructor(
    readonly caseNumber: number,
    readonly variable: string | undefined,
    message: string,
  ) {
    super(`Case ${caseNumber}${variable === undefined ? '' : `, variable ${variable}`}: ${message}`);
    this.name = new.target.name;
  }
}

export const MAX_NAME_BYTES = 64;
export const MAX_STRING_WIDTH = 32_767;
export const MAX_VARIABLE_LABEL_BYTES = 255;
export const MAX_VALUE_LABEL_BYTES = 120;
export const MAX_SET_LABEL_BYTES = 255;

// Words SPSS syntax reserves: never valid as names.
const RESERVED = new Set(['ALL', 'AND', 'BY', 'EQ', 'GE', 'GT', 'LE', 'LT', 'NE', 'NOT', 'OR', 'TO', 'WITH']);

// PSPP (lex_uc_is_id1 / lex_uc_is_idn) takes ASCII letters, or Unicode letters outside ASCII; we take the
// narrower of its two historical rules so every version agrees.
const ASCII_START = /^[A-Za-z]$/;
const ASCII_PART = /^[A-Za-z0-9._]$/;
const WIDE_START = /^(?=\p{ID_Start})\p{L}$/u;
const WIDE_PART = /^(?=\p{ID_Continue})[\p{L}\p{M}\p{N}]$/u;

function isNameStart(ch: string): boolean {
  return ch < '\x80' ? ASCII_START.test(ch) : WIDE_START.test(ch);
}

function isNamePart(ch: string): boolean {
  return ch < '\x80' ? ASCII_PART.test(ch) : WIDE_PART.test(ch);
}

/** Case-insensitive, compatibility-insensitive key: `Q1` and `Ｑ１` are the same name. */
function nameKey(name: string): string {
  return name.normalize('NFKC').toUpperCase().toLowerCase();
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The longest prefix of `bytes` of at most `max` bytes that does not split a UTF-8 character. */
function cutUtf8Bytes(bytes: Buffer, max: number): Buffer {
  if (bytes.length <= max) return bytes;
  let end = max;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

function cutUtf8(text: string, max: number): string {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= max ? text : cutUtf8Bytes(bytes, max).toString('utf8');
}

/** Labels are one line in SPSS's dialogs: line breaks from spreadsheet headers become spaces. */
function cleanLabel(text: string, max: number): string {
  return cutUtf8(text.normalize('NFC').replace(/\s+/gu, ' ').trim(), max);
}

/** SPSS discourages names ending in `_` (procedures make such names) and forbids a final `.`. */
function trimName(name: string): string {
  return name.replace(/^[._]+/u, '').replace(/[._]+$/u, '');
}

/** A valid name from arbitrary text; `position` (0-based) names an empty header. */
function validName(text: string, position: number): string {
  const chars = [...text.normalize('NFC').trim()].map((ch) => (isNamePart(ch) ? ch : '_'));
  let name = trimName(chars.join('').replace(/_+/gu, '_'));
  if (name === '') return `v${position + 1}`;
  // A name must start with a letter: `2nd choice` → `v2nd_choice`.
  if (!isNameStart([...name][0] ?? '')) name = `v${name}`;
  name = trimName(cutUtf8(name, MAX_NAME_BYTES));
  if (RESERVED.has(name.toUpperCase())) name = `v_${name}`;
  return name;
}

function uniqueName(base: string, taken: Set<string>): string {
  let name = base;
  for (let n = 2; taken.has(nameKey(name)); n++) {
    const suffix = `_${n}`;
    name = trimName(cutUtf8(base, MAX_NAME_BYTES - suffix.length)) + suffix;
  }
  taken.add(nameKey(name));
  return name;
}

/**
 * Valid, unique SPSS variable names from arbitrary header texts, in order: at most 64 bytes of UTF-8, a
 * letter first, then letters, digits, `.` and `_` (anything else becomes `_`), no final `.` or `_`, never a
 * reserved word (ALL AND BY EQ GE GT LE LT NE NOT OR TO WITH: `v_` is put before), unique ignoring case
 * (`_2`, `_3` … added). Names it returns come back unchanged, so callers can name a response set's variables
 * before opening the writer.
 */
export function makeVariableNames(headers: readonly string[]): string[] {
  const taken = new Set<string>();
  return headers.map((header, i) => uniqueName(validName(header, i), taken));
}

/** Set names follow the variable-name rules behind their `$`, and are unique among the sets. */
function makeSetNames(names: readonly string[]): string[] {
  const taken = new Set<string>();
  return names.map((name, i) => {
    const base = validName(name.replace(/^\$/u, ''), i);
    return `$${uniqueName(cutUtf8(base, MAX_NAME_BYTES - 1), taken)}`;
  });
}

/**
 * The 8-byte ASCII names of the variable records (one per segment); record 13 maps them to the long names.
 * None may equal another variable's long name: PSPP renames one variable at a time and would collide.
 */
function makeShortNames(longNames: readonly string[], segmentCounts: readonly number[]): string[][] {
  const upper = (name: string): string => name.normalize('NFKC').toUpperCase();
  const longKeys = new Set(longNames.map(upper));
  const taken = new Set<string>();
  const claim = (base: string, own: string): string => {
    for (let n = 0; ; n++) {
      const suffix = n === 0 ? '' : String(n);
      const candidate = base.slice(0, 8 - suffix.length) + suffix;
      if (taken.has(candidate) || RESERVED.has(candidate)) continue;
      if (longKeys.has(candidate) && candidate !== own) continue;
      taken.add(candidate);
      return candidate;
    }
  };
  return longNames.map((long, i) => {
    const ascii = long.toUpperCase().replace(/[^A-Z0-9_]/gu, '');
    const base = /^[A-Z]/u.test(ascii) ? ascii.slice(0, 8) : 'V';
    const own = upper(long);
    return Array.from({ length: segmentCounts[i] ?? 1 }, () => claim(base, own));
  });
}

// ---------------------------------------------------------------------------------------------------------
// Case layout

/** One physical variable of the file: a number, a string up to 255 bytes, or a piece of a longer string. */
interface Segment {
  /** Width in the variable record: 0 numeric, else 1–255. */
  width: number;
  /** Where the segment's data starts in the value, and how many bytes of it it holds. */
  offset: number;
  used: number;
  /** Bytes in the case: the width rounded up to 8. */
  bytes: number;
}

interface Layout {
  name: string;
  short: string[];
  type: 'numeric' | 'string';
  width: number;
  label: string | undefined;
  decimals: number;
  measure: 1 | 2 | 3;
  valueLabels: Array<[number | string, string]>;
  missingValues: readonly number[];
  segments: Segment[];
  /** Bytes of case data: the segments' bytes together. */
  caseBytes: number;
}

/**
 * A string over 255 bytes is cut into ceil(width / 252) segments: all but the last 255 bytes wide, the last
 * width − 252·(n−1); data is packed 255 bytes to a segment, so the last ones may hold little or nothing.
 */
function segmentsOf(type: 'numeric' | 'string', width: number): Segment[] {
  if (type === 'numeric') return [{ width: 0, offset: 0, used: 8, bytes: 8 }];
  if (width <= 255) return [{ width, offset: 0, used: width, bytes: roundUp8(width) }];
  const count = Math.ceil(width / 252);
  return Array.from({ length: count }, (_, i) => {
    const segmentWidth = i < count - 1 ? 255 : width - i * 252;
    const offset = Math.min(255 * i, width);
    return {
      width: segmentWidth,
      offset,
      used: Math.max(0, Math.min(width - 255 * i, 255)),
      bytes: roundUp8(segmentWidth),
    };
  });
}

function roundUp8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

function layoutVariables(variables: readonly SavVariable[]): Layout[] {
  if (variables.length === 0) throw new SavSpecError('An SPSS file needs at least one variable.');
  const names = makeVariableNames(variables.map((v) => v.name));
  const layouts = variables.map((v, i): Layout => {
    const name = names[i] ?? '';
    if (v.type !== 'numeric' && v.type !== 'string') {
      throw new SavSpecError(`Variable ${name}: type must be 'numeric' or 'string', not ${String(v.type)}.`);
    }
    let width = 0;
    if (v.type === 'string') {
      if (v.width === undefined) {
        throw new SavSpecError(
          `String variable ${name} has no width: give one, or let writeSav measure the longest value.`,
        );
      }
      if (!Number.isInteger(v.width) || v.width < 1 || v.width > MAX_STRING_WIDTH) {
        throw new SavSpecError(
          `String variable ${name}: width ${v.width} is not a whole number of bytes from 1 to ${MAX_STRING_WIDTH}.`,
        );
      }
      width = v.width;
    }
    const decimals = v.decimals ?? 2;
    if (!Number.isInteger(decimals) || decimals < 0 || decimals > 16) {
      throw new SavSpecError(`Variable ${name}: decimals ${decimals} is not a whole number from 0 to 16.`);
    }
    const valueLabels = (v.valueLabels ?? []).map(([value, label]): [number | string, string] => {
      if (
        v.type === 'numeric'
          ? typeof value !== 'number' || !Number.isFinite(value)
          : typeof value !== 'string'
      ) {
        throw new SavSpecError(
          `Variable ${name}: value label ${JSON.stringify(value)} is not a ${v.type === 'numeric' ? 'finite number' : 'string'}, as the variable is ${v.type}.`,
        );
      }
      if (typeof value === 'string' && byteLength(value) > width) {
        throw new SavSpecError(
          `Variable ${name}: labelled value ${JSON.stringify(value)} is longer than the width, ${width} bytes.`,
        );
      }
      return [value, cleanLabel(label, MAX_VALUE_LABEL_BYTES)];
    });
    const missingValues = v.missingValues ?? [];
    if (missingValues.length > 0 && v.type !== 'numeric') {
      throw new SavSpecError(`String variable ${name}: only numeric variables take missing values here.`);
    }
    if (missingValues.length > 3 || missingValues.some((m) => !Number.isFinite(m))) {
      throw new SavSpecError(
        `Variable ${name}: missing values ${JSON.stringify(missingValues)} are not at most 3 finite numbers.`,
      );
    }
    const seen = new Set<number | string>();
    for (const [value] of valueLabels) {
      const key = typeof value === 'string' ? value.replace(/ +$/u, '') : value;
      if (seen.has(key))
        throw new SavSpecError(`Variable ${name}: value ${JSON.stringify(value)} is labelled twice.`);
      seen.add(key);
    }
    if (v.type === 'string' && v.measure === 'scale') {
      throw new SavSpecError(
        `String variable ${name} cannot be measured on a scale: use nominal or ordinal.`,
      );
    }
    const measure = v.measure ?? (v.type === 'string' || valueLabels.length > 0 ? 'nominal' : 'scale');
    const segments = segmentsOf(v.type, width);
    const label = v.label === undefined ? undefined : cleanLabel(v.label, MAX_VARIABLE_LABEL_BYTES);
    return {
      name,
      short: [],
      type: v.type,
      width,
      label: label === '' ? undefined : label,
      decimals,
      measure: measure === 'nominal' ? 1 : measure === 'ordinal' ? 2 : 3,
      valueLabels,
      missingValues,
      segments,
      caseBytes: segments.reduce((sum, s) => sum + s.bytes, 0),
    };
  });
  const shorts = makeShortNames(
    names,
    layouts.map((l) => l.segments.length),
  );
  layouts.forEach((l, i) => (l.short = shorts[i] ?? []));
  return layouts;
}

interface SetLayout {
  name: string;
  text: string;
  /** Record 19 (dichotomies labelled by counted values) rather than 7. */
  extended: boolean;
}

function layoutSets(sets: readonly SavMultipleResponseSet[], layouts: readonly Layout[]): SetLayout[] {
  const names = makeSetNames(sets.map((s) => s.name));
  // Names are unique ignoring case, so `price` finds `Price` without ambiguity.
  const byName = new Map(layouts.map((l) => [nameKey(l.name), l]));
  return sets.map((set, i) => {
    const name = names[i] ?? '';
    const members = set.variables.map((variable) => {
      const layout = byName.get(nameKey(variable));
      if (layout === undefined) {
        throw new SavSpecError(
          `Response set ${name}: no variable is named ${JSON.stringify(variable)}. Use the final names ` +
            `(makeVariableNames): ${layouts.map((l) => l.name).join(', ')}.`,
        );
      }
      return layout;
    });
    if (new Set(members).size !== members.length) {
      throw new SavSpecError(`Response set ${name} lists a variable twice.`);
    }
    if (members.length < 2) throw new SavSpecError(`Response set ${name} needs at least two variables.`);
    const type = members[0]?.type;
    if (members.some((m) => m.type !== type)) {
      throw new SavSpecError(`Response set ${name} mixes numeric and string variables.`);
    }
    const counted = (text: string): string => `${byteLength(text)} ${text}`;
    const label = counted(cleanLabel(set.label, MAX_SET_LABEL_BYTES));
    const vars = members.map((m) => ` ${(m.short[0] ?? '').toLowerCase()}`).join('');
    if (set.kind === 'category') return { name, text: `${name}=C ${label}${vars}\n`, extended: false };

    let value: string;
    if (type === 'numeric') {
      if (typeof set.countedValue !== 'number' || !Number.isInteger(set.countedValue)) {
        throw new SavSpecError(
          `Response set ${name}: the counted value of numeric variables must be an integer.`,
        );
      }
      value = String(set.countedValue);
    } else {
      const shortest = Math.min(...members.map((m) => m.width));
      if (typeof set.countedValue !== 'string' || byteLength(set.countedValue) > shortest) {
        throw new SavSpecError(
          `Response set ${name}: the counted value of string variables must be a string of at most ${shortest} bytes.`,
        );
      }
      value = set.countedValue;
    }
    // `D<len> <value> <len> <label> vars` (record 7); `E 1 <len> <value> <len> <label> vars` (record 19).
    return set.categoryLabels === 'counted-values'
      ? { name, text: `${name}=E 1 ${counted(value)} ${label}${vars}\n`, extended: true }
      : { name, text: `${name}=D${counted(value)} ${label}${vars}\n`, extended: false };
  });
}

// ---------------------------------------------------------------------------------------------------------
// Dictionary

/** Little-endian record bytes, gathered in pieces. */
class Bytes {
  private readonly parts: Buffer[] = [];
  length = 0;

  int32(...values: number[]): this {
    return this.int32s(values);
  }

  /** As `int32`, for lists too long to spread into arguments. */
  int32s(values: readonly number[]): this {
    const b = Buffer.alloc(4 * values.length);
    values.forEach((v, i) => b.writeInt32LE(v, 4 * i));
    return this.raw(b);
  }

  float64(value: number): this {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(value);
    return this.raw(b);
  }

  /** `text` in exactly `width` bytes: cut at a character boundary, padded with `pad`. */
  fixed(text: string | Buffer, width: number, pad = 0x20): this {
    const bytes = cutUtf8Bytes(typeof text === 'string' ? Buffer.from(text, 'utf8') : text, width);
    const b = Buffer.alloc(width, pad);
    bytes.copy(b);
    return this.raw(b);
  }

  raw(b: Buffer): this {
    this.parts.push(b);
    this.length += b.length;
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}

const SYSMIS = -Number.MAX_VALUE;
const FORMAT_A = 1;
const FORMAT_F = 5;

function format(type: number, width: number, decimals: number): number {
  return (type << 16) | (width << 8) | decimals;
}

function textRecord(out: Bytes, subtype: number, text: string | Buffer): void {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  out.int32(7, subtype, 1, bytes.length).raw(bytes);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function dictionary(
  layouts: readonly Layout[],
  sets: readonly SetLayout[],
  options: SavWriterOptions,
  compressed: boolean,
): Buffer {
  const out = new Bytes();
  const octs = layouts.reduce((sum, l) => sum + l.caseBytes / 8, 0);
  const created = options.created ?? new Date();
  const two = (n: number): string => String(n).padStart(2, '0');

  // Header (176 bytes). The case count at offset 80 stays -1 ("unknown") until close() patches it.
  out
    .fixed('$FL2', 4)
    .fixed('@(#) SPSS DATA FILE verbatim', 60)
    .int32(2, octs, compressed ? 1 : 0, 0, -1)
    .float64(100)
    .fixed(`${two(created.getDate())} ${MONTHS[created.getMonth()]} ${two(created.getFullYear() % 100)}`, 9)
    .fixed(`${two(created.getHours())}:${two(created.getMinutes())}:${two(created.getSeconds())}`, 8)
    .fixed(cleanLabel(options.fileLabel ?? '', 64), 64)
    .fixed('', 3, 0);

  // Variable records: one per segment, then a continuation record (type -1) per further 8 bytes.
  for (const l of layouts) {
    l.segments.forEach((s, i) => {
      const label = i === 0 ? l.label : undefined;
      const fmt =
        l.type === 'numeric'
          ? format(FORMAT_F, Math.max(8, l.decimals + 3), l.decimals)
          : format(FORMAT_A, s.width, 0);
      const missing = i === 0 ? l.missingValues : [];
      out.int32(2, s.width, label === undefined ? 0 : 1, missing.length, fmt, fmt).fixed(l.short[i] ?? '', 8);
      if (label !== undefined) {
        const bytes = Buffer.from(label, 'utf8');
        // The label is padded to a multiple of 4 bytes.
        out.int32(bytes.length).fixed(bytes, Math.ceil(bytes.length / 4) * 4);
      }
      // Discrete missing values follow the label, 8 bytes each.
      for (const m of missing) out.float64(m);
      for (let extra = 1; extra < s.bytes / 8; extra++) out.int32(2, -1, 0, 0, 0, 0).fixed('', 8, 0x20);
    });
  }

  // Value labels of numbers and of strings up to 8 bytes (types 3 and 4), one pair per distinct set.
  const groups = new Map<
    string,
    { labels: Array<[number | string, string]>; width: number; indexes: number[] }
  >();
  let index = 1;
  for (const l of layouts) {
    if (l.valueLabels.length > 0 && l.width <= 8) {
      const key = JSON.stringify([l.width, l.valueLabels]);
      const group = groups.get(key) ?? { labels: l.valueLabels, width: l.width, indexes: [] };
      group.indexes.push(index);
      groups.set(key, group);
    }
    index += l.caseBytes / 8;
  }
  for (const { labels, width, indexes } of groups.values()) {
    out.int32(3, labels.length);
    for (const [value, label] of labels) {
      if (typeof value === 'number') out.float64(value);
      else out.fixed(cutUtf8(value, width), 8);
      const bytes = Buffer.from(label, 'utf8');
      // Length byte and label together fill a multiple of 8 bytes.
      out.raw(Buffer.from([bytes.length])).fixed(bytes, roundUp8(bytes.length + 1) - 1, 0x20);
    }
    out.int32(4, indexes.length).int32s(indexes);
  }

  // 7.3 machine integer info: writer version 1.0.0, machine -1, IEEE 754, compression 1, little-endian, UTF-8.
  out.int32(7, 3, 4, 8, 1, 0, 0, -1, 1, 1, 2, 65001);
  // 7.4 machine floating-point info: SYSMIS, HIGHEST, LOWEST (SPSS 21 and later write SYSMIS for LOWEST).
  out.int32(7, 4, 8, 3).float64(SYSMIS).float64(Number.MAX_VALUE).float64(SYSMIS);

  const classic = sets.filter((s) => !s.extended);
  if (classic.length > 0) textRecord(out, 7, classic.map((s) => s.text).join(''));

  // 7.11 display parameters: measure, width, alignment, per segment.
  const display: number[] = [];
  for (const l of layouts) {
    l.segments.forEach((s, i) => {
      const columns =
        l.type === 'numeric' ? Math.max(8, l.decimals + 3) : Math.min(Math.max(l.width - 252 * i, 1), 32);
      display.push(l.measure, columns, l.type === 'numeric' ? 1 : 0);
    });
  }
  out.int32(7, 11, 4, display.length).int32s(display);

  // 7.13 long names: SHORT=Long, tab-separated.
  textRecord(out, 13, layouts.map((l) => `${l.short[0]}=${l.name}`).join('\t'));

  // 7.14 very long strings: SHORT=00300, each followed by NUL and tab.
  const veryLong = layouts.filter((l) => l.segments.length > 1);
  if (veryLong.length > 0) {
    textRecord(
      out,
      14,
      veryLong.map((l) => `${l.short[0]}=${String(l.width).padStart(5, '0')}\0\t`).join(''),
    );
  }

  const extended = sets.filter((s) => s.extended);
  if (extended.length > 0) textRecord(out, 19, extended.map((s) => s.text).join(''));

  textRecord(out, 20, 'UTF-8');

  // 7.21 value labels of strings over 8 bytes, by long name, values padded to the full width.
  const long = new Bytes();
  for (const l of layouts) {
    if (l.valueLabels.length === 0 || l.width <= 8) continue;
    const name = Buffer.from(l.name, 'utf8');
    long.int32(name.length).raw(name).int32(l.width, l.valueLabels.length);
    for (const [value, label] of l.valueLabels) {
      const bytes = Buffer.from(label, 'utf8');
      long.int32(l.width).fixed(String(value), l.width).int32(bytes.length).raw(bytes);
    }
  }
  if (long.length > 0) textRecord(out, 21, long.toBuffer());

  out.int32(999, 0);
  return out.toBuffer();
}

// ---------------------------------------------------------------------------------------------------------
// Cases

const CHUNK_BYTES = 1 << 20;
const SPACES8 = Buffer.alloc(8, 0x20);

/**
 * Encodes cases into 1 MiB buffers and hands full ones to the file. Bytecode compression groups 8 one-byte
 * codes with the 8-byte values some of them call for: 1–251 is the number code − 100, 253 "value follows",
 * 254 eight spaces, 255 system-missing; unused codes at the end stay 0 (ignored).
 */
class CaseEncoder {
  private buf = Buffer.alloc(CHUNK_BYTES);
  private pos = 0;
  /** Start of the current group of codes, and how many it holds (8: full). */
  private block = 0;
  private codes = 8;

  constructor(
    private readonly compressed: boolean,
    private readonly flush: (bytes: Buffer) => void,
  ) {}

  number(value: number): void {
    if (!this.compressed) {
      this.room(8);
      this.buf.writeDoubleLE(value, this.pos);
      this.pos += 8;
    } else if (value === SYSMIS) {
      this.code(255);
    } else if (Number.isInteger(value) && value >= -99 && value <= 151) {
      this.code(value + 100);
    } else {
      this.code(253);
      this.buf.writeDoubleLE(value, this.pos);
      this.pos += 8;
    }
  }

  /** Eight bytes of string data at `start` in `source`. */
  chunk(source: Buffer, start: number): void {
    if (!this.compressed) {
      this.room(8);
      source.copy(this.buf, this.pos, start, start + 8);
      this.pos += 8;
    } else if (source.compare(SPACES8, 0, 8, start, start + 8) === 0) {
      this.code(254);
    } else {
      this.code(253);
      source.copy(this.buf, this.pos, start, start + 8);
      this.pos += 8;
    }
  }

  /** Hands over everything, the last group of codes padded with zeros. */
  end(): void {
    if (this.pos > 0) this.flush(this.buf.subarray(0, this.pos));
    this.buf = Buffer.alloc(0);
    this.pos = 0;
  }

  private code(code: number): void {
    if (this.codes === 8) {
      // A new group: its 8 codes, then up to 8 values.
      this.room(8 + 64);
      this.block = this.pos;
      this.buf.fill(0, this.pos, this.pos + 8);
      this.pos += 8;
      this.codes = 0;
    }
    this.buf[this.block + this.codes++] = code;
  }

  /** Makes room for `bytes` more, handing over what is complete (all but the open group of codes). */
  private room(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const keepFrom = this.compressed && this.codes < 8 ? this.block : this.pos;
    const next = Buffer.alloc(CHUNK_BYTES);
    this.buf.copy(next, 0, keepFrom, this.pos);
    this.flush(this.buf.subarray(0, keepFrom));
    this.pos -= keepFrom;
    this.block -= keepFrom;
    this.buf = next;
  }
}

async function writeAll(file: FileHandle, bytes: Buffer, position: number | null = null): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await file.write(
      bytes,
      done,
      bytes.length - done,
      position === null ? null : position + done,
    );
    done += bytesWritten;
  }
}

/**
 * Opens `file` for writing (the data goes to a temporary file beside it, renamed on close). Every string
 * variable needs its width; `writeSav` measures missing ones from the data.
 */
export async function openSavWriter(file: string, options: SavWriterOptions): Promise<SavWriter> {
  const layouts = layoutVariables(options.variables);
  const sets = layoutSets(options.mrsets ?? [], layouts);
  const compressed = (options.compression ?? 'bytecode') === 'bytecode';
  const header = dictionary(layouts, sets, options, compressed);

  const temporary = tempName(file);
  const handle = await fs.open(temporary, 'w');
  let written: Promise<void> = writeAll(handle, header);
  let failure: Error | undefined;
  let flushed = false;
  const encoder = new CaseEncoder(compressed, (bytes) => {
    flushed = true;
    written = written.then(() => writeAll(handle, bytes));
  });
  // Case buffers for strings, reused: the widest is 32 KiB.
  const scratch = layouts.map((l) => (l.type === 'string' ? Buffer.alloc(l.caseBytes, 0x20) : undefined));
  let cases = 0;
  let truncatedValues = 0;
  let state: 'open' | 'closed' = 'open';

  const settle = async (): Promise<void> => {
    try {
      await written;
    } catch (error) {
      failure ??= error instanceof Error ? error : new Error(String(error));
    }
    if (failure !== undefined) throw failure;
  };

  const discard = async (): Promise<void> => {
    state = 'closed';
    await written.catch(() => undefined);
    await handle.close().catch(() => undefined);
    await fs.rm(temporary, { force: true });
  };

  return {
    names: layouts.map((l) => l.name),
    setNames: sets.map((s) => s.name),

    async writeCase(values) {
      if (state !== 'open') throw new Error('This SPSS file is already closed.');
      if (failure !== undefined) throw failure;
      const number = cases + 1;
      if (values.length !== layouts.length) {
        throw new SavValueError(
          number,
          undefined,
          `${values.length} values for ${layouts.length} variables.`,
        );
      }
      // Check the whole case first, so a bad one leaves nothing half-written.
      layouts.forEach((l, i) => {
        const value = values[i];
        if (value === null || value === undefined) return;
        if (l.type === 'numeric' ? typeof value !== 'number' : typeof value !== 'string') {
          throw new SavValueError(
            number,
            l.name,
            `${JSON.stringify(value)} is not a ${l.type === 'numeric' ? 'number' : 'string'}.`,
          );
        }
      });
      layouts.forEach((l, i) => {
        const value = values[i];
        if (l.type === 'numeric') {
          // NaN and ±Infinity have no SPSS value: they are missing, as null is.
          encoder.number(typeof value === 'number' && Number.isFinite(value) ? value : SYSMIS);
          return;
        }
        const buffer = scratch[i] ?? Buffer.alloc(0);
        buffer.fill(0x20);
        if (typeof value === 'string' && value !== '') {
          if (l.segments.length === 1) {
            // buf.write never writes part of a character, so a cut value stays valid UTF-8.
            if (buffer.write(value, 0, l.width, 'utf8') < byteLength(value)) truncatedValues++;
          } else {
            let bytes: Buffer = Buffer.from(value, 'utf8');
            if (bytes.length > l.width) {
              bytes = cutUtf8Bytes(bytes, l.width);
              truncatedValues++;
            }
            // Segments hold 255 bytes of data each, in 256 bytes of case data.
            let at = 0;
            for (const s of l.segments) {
              if (s.offset < bytes.length)
                bytes.copy(buffer, at, s.offset, Math.min(s.offset + s.used, bytes.length));
              at += s.bytes;
            }
          }
        }
        for (let at = 0; at < buffer.length; at += 8) encoder.chunk(buffer, at);
      });
      cases = number;
      if (flushed) {
        flushed = false;
        await settle();
      }
    },

    async close() {
      if (state !== 'open') throw new Error('This SPSS file is already closed.');
      state = 'closed';
      try {
        encoder.end();
        await settle();
        // The header's count is an int32; beyond it stays -1, which readers take as "read to the end".
        if (cases <= 0x7fffffff) {
          const count = Buffer.alloc(4);
          count.writeInt32LE(cases);
          await writeAll(handle, count, 80);
        }
        await handle.close();
        await fs.rename(temporary, file);
      } catch (error) {
        await discard();
        throw error;
      }
      return { path: file, cases, truncatedValues };
    },

    async abort() {
      await discard();
    },
  };
}

/** Cases to write: anything iterable, sync or async; called twice when a string width must be measured. */
export type SavCases = () => Iterable<readonly SavValue[]> | AsyncIterable<readonly SavValue[]>;

/**
 * Writes a whole file from `cases`. String variables without a width get the longest value's (at least 1,
 * at most 32,767 bytes), measured in a first pass over `cases()`.
 */
export async function writeSav(
  file: string,
  options: SavWriterOptions,
  cases: SavCases,
): Promise<SavSummary & { names: readonly string[]; setNames: readonly string[] }> {
  const unmeasured = options.variables.flatMap((v, i) =>
    v.type === 'string' && v.width === undefined ? [i] : [],
  );
  let variables = options.variables;
  if (unmeasured.length > 0) {
    const widths = new Map(unmeasured.map((i) => [i, 1]));
    for await (const values of cases()) {
      for (const i of unmeasured) {
        const value = values[i];
        if (typeof value === 'string') {
          widths.set(i, Math.min(MAX_STRING_WIDTH, Math.max(widths.get(i) ?? 1, byteLength(value))));
        }
      }
    }
    variables = options.variables.map((v, i) => (widths.has(i) ? { ...v, width: widths.get(i) } : v));
  }
  const writer = await openSavWriter(file, { ...options, variables });
  try {
    for await (const values of cases()) await writer.writeCase(values);
  } catch (error) {
    await writer.abort();
    throw error;
  }
  const summary = await writer.close();
  return { ...summary, names: writer.names, setNames: writer.setNames };
}
