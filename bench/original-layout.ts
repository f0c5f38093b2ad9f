/**
 * The original tool's request, the baseline of the cost comparison: the categories listed by name with
 * their descriptions, the answers as JSON (`{"answers":[{"id":"1","text":"…"},…]}`, ten a request, no
 * de-duplication), and `{"labels":[{"id":"1","category":"Delivery"},…]}` back under a strict schema whose
 * enum is the category names. It is verbatim's own single-label layout before the compact one (3fbe0a7),
 * kept here, not in domain/, because nothing but the bench sends it; the simulator reads it
 * (simulator/original-layout.ts).
 */
import type { Category } from '../domain/categories.js';
import { allowedLabels, fallbackLabel } from '../domain/categories.js';
import type { ChatMessage, LabelSchema, PromptItem } from '../domain/prompt.js';

/** The original tool's batch size: ten answers a request. */
export const ORIGINAL_BATCH_SIZE = 10;

export function originalInstructions(question: string, categories: readonly Category[]): string {
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

export function originalMessages(
  question: string,
  categories: readonly Category[],
  items: readonly PromptItem[],
): ChatMessage[] {
  return [
    { role: 'system', content: originalInstructions(question, categories) },
    { role: 'user', content: JSON.stringify({ answers: items }) },
  ];
}

export function originalSchema(categories: readonly Category[]): LabelSchema {
  return {
    name: 'survey_labels',
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

/** The output ceiling the original layout asked for: `{"id":"12","category":"…"},` and the longest name. */
export function originalMaxTokens(categories: readonly Category[], itemCount: number): number {
  const perLabel = Math.ceil(Math.max(...allowedLabels(categories).map((n) => n.length)) / 2);
  return 32 + itemCount * (14 + perLabel);
}

/** The labels of an original-layout answer, by id; undefined when it is not one. */
export function decodeOriginal(content: string | null | undefined): Map<string, string> | undefined {
  try {
    const parsed = JSON.parse(content ?? '') as { labels?: Array<{ id?: unknown; category?: unknown }> };
    if (!Array.isArray(parsed.labels)) return undefined;
    return new Map(
      parsed.labels.flatMap((l) =>
        typeof l.id === 'string' && typeof l.category === 'string' ? [[l.id, l.category] as const] : [],
      ),
    );
  } catch {
    return undefined;
  }
}
