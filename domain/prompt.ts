/**
 * The wire format, in one place: the instructions, the messages and the response schema sent for a batch
 * (single-label or multi-code), the decoding of the model's answer into id → labels, and, for the
 * simulator, the reading of such a request and the encoding of an answer. Nothing else knows the JSON
 * shapes, so a more compact schema changes this module only.
 */
import type { Category } from './categories.js';
import { allowedLabels, fallbackLabel } from './categories.js';
import { ModelOutputError } from './model-output.js';
import { truncate } from './text.js';

/** One answer as sent to the model: a short id, unique within its batch, and the text. */
export interface PromptItem {
  readonly id: string;
  readonly text: string;
}

export interface ChatMessage {
  readonly role: 'system' | 'user';
  readonly content: string;
}

export interface LabelSchema {
  readonly name: string;
  readonly strict: true;
  readonly schema: Record<string, unknown>;
}

/** One category per answer (the default), or a list of at most `maxCodes`. */
export type CodingMode = { readonly multi: false } | { readonly multi: true; readonly maxCodes: number };

export const SINGLE_LABEL: CodingMode = { multi: false };
/** MAX_CODES when not set: enough for nearly every answer, few enough to keep a coding focused. */
export const DEFAULT_MAX_CODES = 5;

/** The job's mode from its options (`multi`, `maxCodes`; both absent in jobs from before multi-code). */
export function codingMode(options: { readonly multi?: boolean; readonly maxCodes?: number }): CodingMode {
  return options.multi ? { multi: true, maxCodes: options.maxCodes ?? DEFAULT_MAX_CODES } : SINGLE_LABEL;
}

export const SCHEMA_NAME = 'survey_labels';

/** The rule line that states the maximum; `readCodingRequest` reads the number back from it. */
const MULTI_RULE = '- Give every answer each category that applies, at most';
const MULTI_RULE_PATTERN = /^- Give every answer each category that applies, at most (\d+)\b/m;

/**
 * The instructions and the category list come first and never change within a job, so the API can cache
 * that prefix across batches (prompts of 1,024 tokens or more); the answers come last.
 */
export function buildInstructions(
  question: string,
  categories: readonly Category[],
  mode: CodingMode = SINGLE_LABEL,
): string {
  const fallback = fallbackLabel(categories);
  const lines = allowedLabels(categories).map((name) => {
    const description = categories.find((c) => c.name === name)?.description;
    if (description) return `- ${name}: ${description}`;
    return name === fallback && !categories.some((c) => c.name === name)
      ? `- ${name}: the answer fits none of the categories above`
      : `- ${name}`;
  });
  const rules = mode.multi
    ? [
        `${MULTI_RULE} ${mode.maxCodes}, spelled exactly as listed, the most important first.`,
        `- Use "${fallback}" only when no other category fits, and then alone.`,
      ]
    : [
        '- Give every answer exactly one category, spelled exactly as listed.',
        `- Use "${fallback}" only when no other category fits.`,
      ];
  return [
    'You code open-ended survey answers ("verbatims") into a fixed list of categories.',
    `Survey question: ${JSON.stringify(question)}`,
    'Categories:',
    ...lines,
    'Rules:',
    ...rules,
    '- Return every id you were given exactly once, and no other ids.',
  ].join('\n');
}

export function buildMessages(
  question: string,
  categories: readonly Category[],
  items: readonly PromptItem[],
  mode: CodingMode = SINGLE_LABEL,
): ChatMessage[] {
  return [
    { role: 'system', content: buildInstructions(question, categories, mode) },
    { role: 'user', content: JSON.stringify({ answers: items }) },
  ];
}

/**
 * A strict JSON schema with the categories as an enum: `{ labels: [{ id, category }] }`, or in multi-code
 * mode `{ labels: [{ id, categories: [enum…] }] }`. The maximum is in the instructions, not the schema
 * (`maxItems` is not honoured by every OpenAI-compatible server): longer lists are cut on arrival.
 */
export function buildLabelSchema(
  categories: readonly Category[],
  mode: CodingMode = SINGLE_LABEL,
): LabelSchema {
  const category = { type: 'string', enum: allowedLabels(categories) };
  const [key, value] = mode.multi
    ? ['categories', { type: 'array', items: category }]
    : ['category', category];
  return {
    name: SCHEMA_NAME,
    strict: true,
    schema: {
      type: 'object',
      properties: {
        labels: {
          type: 'array',
          items: {
            type: 'object',
            properties: { id: { type: 'string' }, [key]: value },
            required: ['id', key],
            additionalProperties: false,
          },
        },
      },
      required: ['labels'],
      additionalProperties: false,
    },
  };
}

/**
 * A ceiling for the model's output: each label is about `{"id":"12","category":"…"},` plus the category's
 * tokens; in multi-code mode up to `maxCodes` categories a label, each counted as the longest. Kept tight
 * because the API charges max tokens against the tokens-per-minute budget up front.
 */
export function maxCompletionTokens(
  categories: readonly Category[],
  itemCount: number,
  mode: CodingMode = SINGLE_LABEL,
): number {
  const labels = allowedLabels(categories);
  const perLabel = Math.ceil(Math.max(...labels.map((n) => n.length)) / 2);
  const codes = mode.multi ? Math.min(mode.maxCodes, labels.length) : 1;
  const perItem = 14 + perLabel + (codes - 1) * (2 + perLabel);
  return 32 + itemCount * perItem;
}

/** An answer's labels as the model gave them, before validation. */
export interface DecodedLabel {
  readonly id: string;
  readonly labels: readonly string[];
}

/**
 * The model's content as id → labels (one in single-label mode), in its order, unchecked against the batch.
 * Throws `ModelOutputError` (malformed_json) when it is not JSON of the schema's shape.
 */
export function decodeLabels(content: string | null | undefined, mode: CodingMode): DecodedLabel[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content ?? '');
  } catch {
    throw new ModelOutputError(
      'malformed_json',
      `model output is not JSON: ${truncate(String(content), 60)}`,
    );
  }
  const labels = (parsed as { labels?: unknown } | null)?.labels;
  if (!Array.isArray(labels)) {
    throw new ModelOutputError('malformed_json', 'model output has no "labels" array');
  }
  return labels.map((entry) => {
    const { id, category, categories } = (entry ?? {}) as {
      id?: unknown;
      category?: unknown;
      categories?: unknown;
    };
    if (mode.multi) {
      if (
        typeof id !== 'string' ||
        !Array.isArray(categories) ||
        !categories.every((c) => typeof c === 'string')
      ) {
        throw new ModelOutputError(
          'malformed_json',
          'a label lacks a string "id" or a "categories" list of strings',
        );
      }
      return { id, labels: categories };
    }
    if (typeof id !== 'string' || typeof category !== 'string') {
      throw new ModelOutputError('malformed_json', 'a label lacks a string "id" or "category"');
    }
    return { id, labels: [category] };
  });
}

/** The content a model returns for these labels, in the schema's shape (the simulator answers with it). */
export function encodeLabels(labels: readonly DecodedLabel[], mode: CodingMode): string {
  return JSON.stringify({
    labels: labels.map((l) =>
      mode.multi ? { id: l.id, categories: l.labels } : { id: l.id, category: l.labels[0] ?? '' },
    ),
  });
}

/** Reads the answers back out of a user message built by `buildMessages`. */
export function parsePromptItems(userContent: string): PromptItem[] | undefined {
  try {
    const parsed = JSON.parse(userContent) as { answers?: unknown };
    if (!Array.isArray(parsed.answers)) return undefined;
    return parsed.answers.filter(
      (a): a is PromptItem =>
        typeof a === 'object' &&
        a !== null &&
        typeof (a as PromptItem).id === 'string' &&
        typeof (a as PromptItem).text === 'string',
    );
  } catch {
    return undefined;
  }
}

/** A request for a coding, as read back from the wire (by the simulator). */
export interface CodingRequest {
  /** The schema's category enum: every label the answer may use. */
  readonly labels: string[];
  readonly items: PromptItem[];
  /** The categories with their descriptions, from the instructions. */
  readonly categories: Category[];
  readonly mode: CodingMode;
}

/**
 * The coding a request asks for, from its system text, its last user message and its response schema; or
 * undefined when the schema is not a label schema of either mode.
 */
export function readCodingRequest(system: string, user: string, schema: unknown): CodingRequest | undefined {
  type Node = { properties?: Record<string, Node>; items?: Node; enum?: unknown } | undefined;
  const item = (schema as Node)?.properties?.labels?.items?.properties;
  const multiEnum = item?.categories?.items?.enum;
  const values = multiEnum ?? item?.category?.enum;
  if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'string')) {
    return undefined;
  }
  const labels = values;
  const max = MULTI_RULE_PATTERN.exec(system)?.[1];
  const mode: CodingMode =
    multiEnum !== undefined ? { multi: true, maxCodes: max ? Number(max) : DEFAULT_MAX_CODES } : SINGLE_LABEL;
  return {
    labels,
    items: parsePromptItems(user) ?? [],
    categories: categoriesFromPrompt(system, labels),
    mode,
  };
}

/**
 * The categories of a request: the names are the schema's enum, the descriptions come from the
 * `- Name: description` lines `buildInstructions` writes (the first line per name).
 */
export function categoriesFromPrompt(instructions: string, labels: readonly string[]): Category[] {
  const descriptions = new Map<string, string>();
  for (const line of instructions.split('\n')) {
    if (!line.startsWith('- ')) continue;
    const colon = line.indexOf(': ');
    if (colon === -1) continue;
    const name = line.slice(2, colon);
    if (!descriptions.has(name)) descriptions.set(name, line.slice(colon + 2).trim());
  }
  return labels.map((name) => {
    const description = descriptions.get(name);
    return description ? { name, description } : { name };
  });
}
