/**
 * The wire format, in one place: the instructions, the messages and the response schema sent for a batch
 * (single-label or multi-code), the decoding of the model's answer into id → labels, and, for the
 * simulator, the reading of such a request and the encoding of an answer. Nothing else knows the shapes.
 *
 * The layout is compact, because output tokens cost four times input tokens and every request repeats
 * the instructions:
 * - the categories are numbered 1…n in the instructions (`allowedLabels` order, the fallback last unless
 *   listed), and the model answers with numbers, mapped back to labels here;
 * - the answers go one a line, `id<TAB>text`; a line break inside an answer is sent as ` / ` and a tab as a
 *   space, so that each answer stays on its line;
 * - the answer is an object keyed by answer id, `{"1":3,"2":5}` (multi-code `{"1":[3,7],"2":[5]}`): about
 *   four output tokens an answer where `{"id":"1","category":"Delivery"}` took eleven. Every id is a
 *   required property, so the grammar of a strict schema makes the model answer each id exactly once, and
 *   every value refers to one `$defs` enum of the category numbers, so it can only give a listed one.
 *
 * The schema names the batch's ids, so it differs between batch sizes: the prompt cache (whose prefix
 * includes the schema) is shared between batches of the same size, which with a fixed BATCH_SIZE is every
 * batch but the last.
 */
import type { Category } from './categories.js';
import { allowedLabels, categoryKey, fallbackLabel } from './categories.js';
import { ModelOutputError } from './model-output.js';
import { truncate } from './text.js';

/** One answer as sent to the model: a short id, unique within its batch, and the text. */
export interface PromptItem {
  readonly id: string;
  readonly text: string;
}

/** An answer the survey's own coders labelled, shown to the model in the instructions (`--examples-from-gold`). */
export interface PromptExample {
  readonly text: string;
  readonly labels: readonly string[];
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
/** The most MAX_CODES (or the API's maxCodes) may ask for. */
export const MAX_CODES_LIMIT = 100;

/** The job's mode from its options (`multi`, `maxCodes`; both absent in jobs from before multi-code). */
export function codingMode(options: { readonly multi?: boolean; readonly maxCodes?: number }): CodingMode {
  return options.multi ? { multi: true, maxCodes: options.maxCodes ?? DEFAULT_MAX_CODES } : SINGLE_LABEL;
}

export const SCHEMA_NAME = 'survey_codes';
/** The `$defs` entry every answer's value refers to: a category number, or a list of them. */
const DEF = 'c';

/** The rule line that states the maximum; `readCodingRequest` reads the number back from it. */
const MULTI_RULE = '- Give every answer each category that applies, at most';
const MULTI_RULE_PATTERN = /^- Give every answer each category that applies, at most (\d+)\b/m;

/** A category line of the instructions: its number, its name as a JSON string, then its description. */
const CATEGORY_LINE = /^(\d+) ("(?:[^"\\]|\\.)*")(?:: (.*))?$/;

/** What a line break inside an answer becomes on the wire (each answer is one line). */
export const LINE_BREAK = ' / ';

/**
 * The categories the model answers with, numbered: the label of number k is `labels[k - 1]`. The fallback
 * is among them (last, unless the categories list it elsewhere).
 */
export function categoryNumbers(categories: readonly Category[]): string[] {
  return allowedLabels(categories);
}

/** A label's number (1-based), whatever its case and surrounding spaces; undefined when not listed. */
export function numberOfLabel(labels: readonly string[], label: string): number | undefined {
  const key = categoryKey(label);
  const i = labels.findIndex((l) => categoryKey(l) === key);
  return i === -1 ? undefined : i + 1;
}

/** Text on one line: line breaks (any of Unicode's) as ` / `, tabs as spaces. */
function oneLine(text: string): string {
  return text.replace(/\s*(?:\r\n|[\n\r\v\f\u0085\u2028\u2029])\s*/gu, LINE_BREAK).replace(/\t/g, ' ');
}

/**
 * The instructions and the numbered categories come first and never change within a job, so the API can
 * cache that prefix across batches (prompts of 1,024 tokens or more); the answers come last. Names are
 * JSON strings, so a name with a colon in it reads back whole.
 */
export function buildInstructions(
  question: string,
  categories: readonly Category[],
  mode: CodingMode = SINGLE_LABEL,
  examples: readonly PromptExample[] = [],
): string {
  const labels = categoryNumbers(categories);
  const fallback = fallbackLabel(categories);
  const fallbackNumber = numberOfLabel(labels, fallback) ?? labels.length;
  const lines = labels.map((name, i) => {
    const description =
      categories.find((c) => c.name === name)?.description ??
      (name === fallback ? 'the answer fits none of the other categories' : undefined);
    const head = `${i + 1} ${JSON.stringify(name)}`;
    return description ? `${head}: ${oneLine(description)}` : head;
  });
  const rules = mode.multi
    ? [
        `${MULTI_RULE} ${mode.maxCodes}, the most important first.`,
        `- Use ${fallbackNumber} only when no other category fits, and then alone.`,
      ]
    : [
        '- Give every answer exactly one category.',
        `- Use ${fallbackNumber} only when no other category fits.`,
      ];
  // In the fixed prefix, so the prompt cache keeps serving them; `- ` keeps them apart from category lines.
  const shown = examples.map((e) => {
    const numbers = e.labels.map((l) => numberOfLabel(labels, l)).filter((n) => n !== undefined);
    return `- ${JSON.stringify(oneLine(e.text))}: ${numbers.join(', ')}`;
  });
  return [
    'You code open-ended survey answers ("verbatims") into numbered categories.',
    `Survey question: ${JSON.stringify(question)}`,
    'Categories:',
    ...lines,
    ...(shown.length > 0
      ? ["Answers the survey's own coders coded (the answer, then its category numbers):", ...shown]
      : []),
    'Rules:',
    ...rules,
    `- Each answer is one line: its id, a tab, its text ("${LINE_BREAK.trim()}" marks a line break in it).`,
    '- Reply with each id and its category number.',
  ].join('\n');
}

/** The answers as the user message carries them: one line each, `id<TAB>text`. */
export function formatItems(items: readonly PromptItem[]): string {
  return items.map((item) => `${oneLine(item.id)}\t${oneLine(item.text)}`).join('\n');
}

export function buildMessages(
  question: string,
  categories: readonly Category[],
  items: readonly PromptItem[],
  mode: CodingMode = SINGLE_LABEL,
  examples: readonly PromptExample[] = [],
): ChatMessage[] {
  return [
    { role: 'system', content: buildInstructions(question, categories, mode, examples) },
    { role: 'user', content: formatItems(items) },
  ];
}

/**
 * A strict JSON schema keyed by the batch's ids, each required, each value a category number from one
 * shared enum (`$defs`), or in multi-code mode a list of them. It stays within OpenAI's limits for the
 * largest batch and codeframe (200 ids × 500 categories: 200 properties, 500 enum values). The maximum
 * of codes is in the instructions, not the schema (`maxItems` is not honoured by every OpenAI-compatible
 * server): longer lists are cut on arrival.
 */
export function buildLabelSchema(
  categories: readonly Category[],
  items: readonly Pick<PromptItem, 'id'>[],
  mode: CodingMode = SINGLE_LABEL,
): LabelSchema {
  const numbers = categoryNumbers(categories).map((_, i) => i + 1);
  const number = { type: 'integer', enum: numbers };
  const ref = { $ref: `#/$defs/${DEF}` };
  return {
    name: SCHEMA_NAME,
    strict: true,
    schema: {
      type: 'object',
      properties: Object.fromEntries(items.map((item) => [item.id, ref])),
      required: items.map((item) => item.id),
      additionalProperties: false,
      $defs: { [DEF]: mode.multi ? { type: 'array', items: number } : number },
    },
  };
}

/**
 * Prompt tokens each answer adds beyond its text, for the auto batch size: its line (`12<TAB>…` and the
 * line break) and its schema property (`"12":{"$ref":"#/$defs/c"}` and its place in `required`).
 */
export const PROMPT_TOKENS_PER_ITEM = 15;

/**
 * A ceiling for the model's output: each answer is `"12":3,` (four tokens: the ids and numbers up to 999
 * are one token each), doubled for whitespace a model may put between them; in multi-code mode up to
 * `maxCodes` numbers in brackets. Kept tight because the API charges it against the tokens-per-minute
 * budget up front.
 */
export function maxCompletionTokens(
  categories: readonly Category[],
  itemCount: number,
  mode: CodingMode = SINGLE_LABEL,
): number {
  const labels = categoryNumbers(categories).length;
  const codes = mode.multi ? Math.min(mode.maxCodes, labels) : 1;
  const perItem = 8 + (mode.multi ? 2 + 2 * codes : 0);
  return 16 + itemCount * perItem;
}

/** An answer's labels as the model gave them, before validation. */
export interface DecodedLabel {
  readonly id: string;
  /** The labels of the numbers given, in the categories' spelling and the order given. */
  readonly labels: readonly string[];
  /** A value that is no category's number (out of range, not a whole number, of the wrong type), as given. */
  readonly unknown?: string;
}

/**
 * The model's content as id → labels (one in single-label mode), in its order, unchecked against the batch:
 * numbers mapped back to the categories' labels. A value that names no category is kept as `unknown` for
 * that id alone, so the rest of the batch stays usable. An id given twice appears twice (JSON.parse keeps
 * only the last, so the keys are read from the text). Throws `ModelOutputError` (malformed_json) when the
 * content is not a JSON object.
 */
export function decodeLabels(
  content: string | null | undefined,
  categories: readonly Category[],
  mode: CodingMode,
): DecodedLabel[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content ?? '');
  } catch {
    throw new ModelOutputError(
      'malformed_json',
      `model output is not JSON: ${truncate(String(content), 60)}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ModelOutputError('malformed_json', 'model output is not an object of ids');
  }
  const labels = categoryNumbers(categories);
  const values = parsed as Record<string, unknown>;
  const labelOf = (value: unknown): string | undefined =>
    typeof value === 'number' && Number.isInteger(value) ? labels[value - 1] : undefined;
  return objectKeys(content ?? '').map((id): DecodedLabel => {
    const value = values[id];
    if (mode.multi) {
      if (!Array.isArray(value)) return { id, labels: [], unknown: JSON.stringify(value) ?? '' };
      const list = value as unknown[];
      const given = list.map(labelOf);
      const bad = list.findIndex((_, i) => given[i] === undefined);
      return bad === -1
        ? { id, labels: given.filter((l) => l !== undefined) }
        : { id, labels: [], unknown: JSON.stringify(list[bad]) ?? '' };
    }
    const label = labelOf(value);
    return label === undefined
      ? { id, labels: [], unknown: JSON.stringify(value) ?? '' }
      : { id, labels: [label] };
  });
}

/**
 * The keys of a JSON object's top level, in order, repeats included. Only called on text JSON.parse read
 * as an object, so strings and nesting are well formed.
 */
function objectKeys(json: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < json.length; i += 1) {
    const c = json[i];
    if (c === '"') {
      let end = i + 1;
      while (end < json.length && json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(json.slice(i, end + 1)) as string);
      expectKey = false;
      i = end;
    } else if (c === '{' || c === '[') {
      depth += 1;
      expectKey = c === '{' && depth === 1;
    } else if (c === '}' || c === ']') depth -= 1;
    else if (c === ',' && depth === 1) expectKey = true;
  }
  return keys;
}

/**
 * The content a model returns for these labels, in the schema's shape (the simulator answers with it).
 * `labels` are the request's numbered categories; a label not among them is given a number past the last,
 * as a model ignoring the enum would.
 */
export function encodeLabels(
  answers: readonly DecodedLabel[],
  labels: readonly string[],
  mode: CodingMode,
): string {
  const number = (label: string) => numberOfLabel(labels, label) ?? labels.length + 1;
  const body = answers.map((a) => {
    const value = mode.multi ? `[${a.labels.map(number).join(',')}]` : String(number(a.labels[0] ?? ''));
    return `${JSON.stringify(a.id)}:${value}`;
  });
  return `{${body.join(',')}}`;
}

/** Reads the answers back out of a user message built by `buildMessages` (lines without a tab are skipped). */
export function parsePromptItems(userContent: string): PromptItem[] {
  return userContent.split('\n').flatMap((line) => {
    const tab = line.indexOf('\t');
    return tab === -1 ? [] : [{ id: line.slice(0, tab), text: line.slice(tab + 1) }];
  });
}

/** A request for a coding, as read back from the wire (by the simulator). */
export interface CodingRequest {
  /** The numbered categories: every label the answer may use, number k at `labels[k - 1]`. */
  readonly labels: string[];
  readonly items: PromptItem[];
  /** The categories with their descriptions, from the instructions. */
  readonly categories: Category[];
  readonly mode: CodingMode;
}

/**
 * The coding a request asks for, from its system text, its last user message and its response schema; or
 * undefined when the schema is not a label schema of either mode, or the instructions do not number as
 * many categories as its enum holds.
 */
export function readCodingRequest(system: string, user: string, schema: unknown): CodingRequest | undefined {
  type Node = { type?: unknown; items?: Node; enum?: unknown; $defs?: Record<string, Node> } | undefined;
  const def = (schema as Node)?.$defs?.[DEF];
  const multi = def?.type === 'array';
  const values = (multi ? def.items : def)?.enum;
  if (!Array.isArray(values) || values.length === 0) return undefined;
  const categories = categoriesFromPrompt(system);
  if (categories.length !== values.length || !values.every((v, i) => v === i + 1)) return undefined;
  const max = MULTI_RULE_PATTERN.exec(system)?.[1];
  const mode: CodingMode = multi
    ? { multi: true, maxCodes: max ? Number(max) : DEFAULT_MAX_CODES }
    : SINGLE_LABEL;
  return { labels: categories.map((c) => c.name), items: parsePromptItems(user), categories, mode };
}

/**
 * The numbered categories of instructions `buildInstructions` wrote, with their descriptions, in number
 * order; [] when the numbers do not run 1, 2, 3….
 */
export function categoriesFromPrompt(instructions: string): Category[] {
  const categories: Category[] = [];
  for (const line of instructions.split('\n')) {
    const match = CATEGORY_LINE.exec(line);
    if (!match) continue;
    const [, number, quoted = '""', description] = match;
    if (Number(number) !== categories.length + 1) return [];
    const name = JSON.parse(quoted) as string;
    categories.push(description ? { name, description } : { name });
  }
  return categories;
}

/** Requests a minute OpenAI advises one `prompt_cache_key` to carry at most; more overflow to cold caches. */
export const REQUESTS_PER_CACHE_KEY = 15;

/**
 * How many `prompt_cache_key`s a job spreads its requests over: its window of requests in flight, each
 * taking about 0.7 s plus its output at 70 tokens a second (four an answer), makes its requests a minute;
 * at most 15 go to one key. From the job's options only, so that every batch of the job keeps its key
 * (`auto` batches are counted as 100 answers).
 */
export function promptCacheKeys(options: {
  readonly parallel: boolean;
  readonly maxWorkers: number;
  readonly batchSize: number | 'auto';
}): number {
  const window = options.parallel ? options.maxWorkers : 1;
  const answers = options.batchSize === 'auto' ? 100 : options.batchSize;
  const secondsPerRequest = 0.7 + (answers * 4) / 70;
  return Math.max(1, Math.ceil((window * 60) / secondsPerRequest / REQUESTS_PER_CACHE_KEY));
}

/**
 * The `prompt_cache_key` of a job's batch: the job id and one of its `keys` spread keys, by batch index, so
 * that a retried batch keeps its key and the job's requests share the cached instructions.
 */
export function promptCacheKey(jobId: string, batchIndex: number, keys: number): string {
  return `${jobId}-${batchIndex % Math.max(1, keys)}`;
}
