/**
 * The original tool's layout, which the bench sends as the baseline of its cost comparison
 * (bench/original-layout.ts): `{"answers":[{id,text}]}` in, `{"labels":[{id,category}]}` out, the
 * categories as `- Name: description` lines and as the schema's enum. Single-label only. The simulator
 * answers it with the same rule, faults and token counting as verbatim's own layout.
 */
import type { Category } from '../domain/categories.js';
import type { CodingRequest, DecodedLabel, PromptItem } from '../domain/prompt.js';
import { SINGLE_LABEL } from '../domain/prompt.js';

/** The coding an original-layout request asks for, or undefined when it is not one. */
export function readOriginalRequest(
  system: string,
  user: string,
  schema: unknown,
): CodingRequest | undefined {
  type Node = { properties?: Record<string, Node>; items?: Node; enum?: unknown } | undefined;
  const values = (schema as Node)?.properties?.labels?.items?.properties?.category?.enum;
  if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'string')) {
    return undefined;
  }
  const labels = values;
  return { labels, items: answersOf(user), categories: categoriesOf(system, labels), mode: SINGLE_LABEL };
}

export function encodeOriginal(answers: readonly DecodedLabel[]): string {
  return JSON.stringify({ labels: answers.map((a) => ({ id: a.id, category: a.labels[0] ?? '' })) });
}

function answersOf(user: string): PromptItem[] {
  try {
    const parsed = JSON.parse(user) as { answers?: unknown };
    if (!Array.isArray(parsed.answers)) return [];
    return parsed.answers.filter(
      (a): a is PromptItem =>
        typeof (a as PromptItem | null)?.id === 'string' &&
        typeof (a as PromptItem | null)?.text === 'string',
    );
  } catch {
    return [];
  }
}

/** Names from the enum, descriptions from the `- Name: description` lines (the first per name). */
function categoriesOf(instructions: string, labels: readonly string[]): Category[] {
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
