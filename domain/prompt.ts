import type { Category } from './categories.js';
import { allowedLabels, fallbackLabel } from './categories.js';

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

export const SCHEMA_NAME = 'survey_labels';

/**
 * The instructions and the category list come first and never change within a job, so the API can cache
 * that prefix across batches (prompts of 1,024 tokens or more); the answers come last.
 */
export function buildInstructions(question: string, categories: readonly Category[]): string {
  const fallback = fallbackLabel(categories);
  const lines = allowedLabels(categories).map((name) => {
    const description = categories.find((c) => c.name === name)?.description;
    if (description) return `- ${name}: ${description}`;
    return name === fallback && !categories.some((c) => c.name === name)
      ? `- ${name}: the answer fits none of the categories above`
      : `- ${name}`;
  });
  return [
    'You code open-ended survey answers ("verbatims") into a fixed list of categories.',
    `Survey question: ${JSON.stringify(question)}`,
    'Categories:',
    ...lines,
    'Rules:',
    '- Give every answer exactly one category, spelled exactly as listed.',
    `- Use "${fallback}" only when no other category fits.`,
    '- Return every id you were given exactly once, and no other ids.',
  ].join('\n');
}

export function buildMessages(
  question: string,
  categories: readonly Category[],
  items: readonly PromptItem[],
): ChatMessage[] {
  return [
    { role: 'system', content: buildInstructions(question, categories) },
    { role: 'user', content: JSON.stringify({ answers: items }) },
  ];
}

/** A strict JSON schema: `{ labels: [{ id, category }] }` with the categories as an enum. */
export function buildLabelSchema(categories: readonly Category[]): LabelSchema {
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
            properties: {
              id: { type: 'string' },
              category: { type: 'string', enum: allowedLabels(categories) },
            },
            required: ['id', 'category'],
            additionalProperties: false,
          },
        },
      },
      required: ['labels'],
      additionalProperties: false,
    },
  };
}

/** Reads the answers back out of a user message built by `buildMessages` (used by the simulator). */
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

/**
 * A ceiling for the model's output: each label is about `{"id":"12","category":"…"},` plus the category's
 * tokens. Kept tight because the API charges max tokens against the tokens-per-minute budget up front.
 */
export function maxCompletionTokens(categories: readonly Category[], itemCount: number): number {
  const longest = Math.max(...allowedLabels(categories).map((n) => n.length));
  const perItem = 14 + Math.ceil(longest / 2);
  return 32 + itemCount * perItem;
}
