/**
 * The wire of codeframe drafting: instructions, messages and strict JSON schemas of the theme-extraction and
 * merge requests, the output ceilings, the validation of the answers, and (for the simulator) reading a
 * request back. Measuring the draft uses the ordinary coding prompt (prompt.ts).
 */
import type { ChatMessage, LabelSchema, PromptItem } from './prompt.js';
import { formatItems, parsePromptItems } from './prompt.js';
import { ModelOutputError } from './validate.js';
import type { MergedCode } from './codeframe-themes.js';
import { cleanDescription, cleanLabel } from './codeframe-themes.js';
import { truncate } from './text.js';

export const THEMES_SCHEMA_NAME = 'codeframe_themes';
export const MERGE_SCHEMA_NAME = 'codeframe_merge';

/** A theme as one extraction request found it: the ids of the chunk's answers that carry it. */
export interface ExtractedTheme {
  readonly label: string;
  readonly description: string;
  readonly ids: readonly string[];
}

/** A theme as a merge request is given it. */
export interface MergeItem {
  readonly id: string;
  readonly label: string;
  readonly description: string;
  /** Answers that carry it, among those read. */
  readonly answers: number;
}

const maxThemesLine = (max: number) => `- Give at most ${max} themes.`;
const targetLine = (target: number) => `- Return at most ${target} codes.`;

function questionLine(question: string): string {
  return `Survey question: ${JSON.stringify(question)}`;
}

export function buildExtractionInstructions(question: string, maxThemes: number): string {
  return [
    'You read open-ended survey answers ("verbatims") to draft a codeframe: the themes respondents mention.',
    questionLine(question),
    'Rules:',
    '- Name each distinct theme with a short label (2 to 6 words), specific enough to act on ("Rude staff", not "Service").',
    '- Describe each theme in one sentence.',
    '- List the ids of the answers that mention each theme; an answer may mention several themes.',
    '- Leave out answers that say nothing codeable ("no comment", "fine").',
    '- The answers come one a line: the id, a tab, the answer.',
    maxThemesLine(maxThemes),
  ].join('\n');
}

export function buildExtractionMessages(
  question: string,
  items: readonly PromptItem[],
  maxThemes: number,
): ChatMessage[] {
  return [
    { role: 'system', content: buildExtractionInstructions(question, maxThemes) },
    // The coding requests' layout: one answer a line, `id<TAB>text` (fewer tokens than JSON, and one reader).
    { role: 'user', content: formatItems(items) },
  ];
}

export function extractionSchema(): LabelSchema {
  return {
    name: THEMES_SCHEMA_NAME,
    strict: true,
    schema: {
      type: 'object',
      properties: {
        themes: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              label: { type: 'string' },
              description: { type: 'string' },
              ids: { type: 'array', items: { type: 'string' } },
            },
            required: ['label', 'description', 'ids'],
            additionalProperties: false,
          },
        },
      },
      required: ['themes'],
      additionalProperties: false,
    },
  };
}

/**
 * The output ceiling of an extraction: each theme's label, sentence and framing (~60 tokens), and each
 * answer's id once or twice (~5 tokens). Charged against the TPM budget up front, so not much more.
 */
export function extractionMaxTokens(answers: number, maxThemes: number): number {
  return 64 + maxThemes * 60 + answers * 5;
}

/**
 * Checks an extraction answer against the chunk: JSON of the schema's shape (else a retryable
 * ModelOutputError). Ids not in the chunk are dropped, and a theme left with none; labels are cleaned for
 * the categories file; the `max` themes with the most answers are kept.
 */
export function validateExtraction(
  content: string | null | undefined,
  items: readonly PromptItem[],
  max: number,
): ExtractedTheme[] {
  const themes = parseArray(content, 'themes');
  const known = new Set(items.map((i) => i.id));
  const out: ExtractedTheme[] = [];
  for (const entry of themes) {
    const { label, description, ids } = (entry ?? {}) as Record<string, unknown>;
    if (typeof label !== 'string' || typeof description !== 'string' || !Array.isArray(ids)) {
      throw new ModelOutputError('malformed_json', 'a theme lacks a string "label", "description" or "ids"');
    }
    const valid = [...new Set(ids.filter((id): id is string => typeof id === 'string' && known.has(id)))];
    const clean = cleanLabel(label);
    if (clean === '' || valid.length === 0) continue;
    out.push({ label: clean, description: cleanDescription(description), ids: valid });
  }
  return out
    .map((t, i) => ({ t, i }))
    .sort((a, b) => b.t.ids.length - a.t.ids.length || a.i - b.i)
    .slice(0, max)
    .sort((a, b) => a.i - b.i)
    .map(({ t }) => t);
}

export function buildMergeInstructions(question: string, target: number, final: boolean): string {
  return [
    'You merge the draft themes of a survey codeframe into codes.',
    questionLine(question),
    'Each theme has an id, a label, a description and the number of answers that mention it.',
    'Rules:',
    '- Merge themes that mean the same thing, however they are worded ("Late delivery", "Orders arrive late"), into one code; keep themes that differ in meaning apart.',
    targetLine(target),
    final
      ? '- If more remain, merge closely related themes into a broader code that still says what its answers say ("Delivery problems" for late and damaged orders), and leave out the least mentioned themes that fit none.'
      : '- If more remain, merge the most closely related themes; prefer specific codes over vague ones.',
    final
      ? '- List the ids of the themes each code takes in, each id at most once. Leave out the themes that fit none of the codes: they go to "Other".'
      : '- List the ids of the themes each code takes in, each id at most once; a theme left out is kept as it is.',
    '- Make no catch-all code ("Miscellaneous", "Other", "Various", "General comments"): every code says what its answers say.',
    '- Give each code a short label (2 to 6 words) and a one-sentence description of what its answers say.',
    final
      ? '- Give each code a net: a broader group name that related codes share (e.g. "Delivery" for late and damaged deliveries), or "" when it stands alone.'
      : '- Give each code a net: a broader group name for related codes, or "".',
  ].join('\n');
}

export function buildMergeMessages(
  question: string,
  themes: readonly MergeItem[],
  target: number,
  final: boolean,
): ChatMessage[] {
  return [
    { role: 'system', content: buildMergeInstructions(question, target, final) },
    { role: 'user', content: JSON.stringify({ themes }) },
  ];
}

export function mergeSchema(): LabelSchema {
  return {
    name: MERGE_SCHEMA_NAME,
    strict: true,
    schema: {
      type: 'object',
      properties: {
        codes: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              label: { type: 'string' },
              description: { type: 'string' },
              net: { type: 'string' },
              themes: { type: 'array', items: { type: 'string' } },
            },
            required: ['label', 'description', 'net', 'themes'],
            additionalProperties: false,
          },
        },
      },
      required: ['codes'],
      additionalProperties: false,
    },
  };
}

/** Each theme id back once (~5 tokens), each code's label, sentence, net and framing (~90). */
export function mergeMaxTokens(themes: number, target: number): number {
  return 64 + themes * 5 + Math.min(themes, target) * 90;
}

/**
 * Checks a merge answer against the themes sent: JSON of the schema's shape, no id that was not sent and
 * none twice (each a retryable ModelOutputError: the merge would be ambiguous). Ids left out are allowed:
 * `applyMerge` carries those themes over, or (the final merge) leaves them to Other.
 */
export function validateMerge(content: string | null | undefined, ids: readonly string[]): MergedCode[] {
  const codes = parseArray(content, 'codes');
  const known = new Set(ids);
  const seen = new Set<string>();
  const out: MergedCode[] = [];
  for (const entry of codes) {
    const { label, description, net, themes } = (entry ?? {}) as Record<string, unknown>;
    if (
      typeof label !== 'string' ||
      typeof description !== 'string' ||
      typeof net !== 'string' ||
      !Array.isArray(themes) ||
      !themes.every((t) => typeof t === 'string')
    ) {
      throw new ModelOutputError(
        'malformed_json',
        'a code lacks a string "label", "description" or "net", or a "themes" list of ids',
      );
    }
    for (const id of themes) {
      if (!known.has(id))
        throw new ModelOutputError('extra_ids', `theme id ${truncate(id, 20)} was not sent`);
      if (seen.has(id)) throw new ModelOutputError('duplicate_ids', `theme id ${id} is in two codes`);
      seen.add(id);
    }
    out.push({ label, description, net, themes });
  }
  return out;
}

function parseArray(content: string | null | undefined, key: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content ?? '');
  } catch {
    throw new ModelOutputError(
      'malformed_json',
      `model output is not JSON: ${truncate(String(content), 60)}`,
    );
  }
  const list = (parsed as Record<string, unknown> | null)?.[key];
  if (!Array.isArray(list))
    throw new ModelOutputError('malformed_json', `model output has no "${key}" array`);
  return list;
}

/** An extraction request read back (the simulator): its answers and how many themes it may return. */
export function readExtractionRequest(
  system: string,
  user: string,
): { items: PromptItem[]; maxThemes: number } | undefined {
  const items = parsePromptItems(user);
  const max = /^- Give at most (\d+) themes\.$/m.exec(system)?.[1];
  if (!items || max === undefined) return undefined;
  return { items, maxThemes: Number(max) };
}

/**
 * A merge request read back (the simulator): its themes, the most codes it may return, and whether it may
 * leave themes out (rather than put every one in a code).
 */
export function readMergeRequest(
  system: string,
  user: string,
): { themes: MergeItem[]; target: number; leaveOut: boolean } | undefined {
  const target = /^- Return at most (\d+) codes\.$/m.exec(system)?.[1];
  const leaveOut = /^- List the ids of the themes each code takes in, each id at most once/m.test(system);
  if (target === undefined) return undefined;
  try {
    const parsed = JSON.parse(user) as { themes?: unknown };
    if (!Array.isArray(parsed.themes)) return undefined;
    const themes = parsed.themes.filter(
      (t): t is MergeItem =>
        typeof t === 'object' &&
        t !== null &&
        typeof (t as MergeItem).id === 'string' &&
        typeof (t as MergeItem).label === 'string',
    );
    return { themes, target: Number(target), leaveOut };
  } catch {
    return undefined;
  }
}
