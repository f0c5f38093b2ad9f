import { describe, expect, it } from 'vitest';

import type { Category } from '../../domain/categories.js';
import {
  SCHEMA_NAME,
  buildInstructions,
  buildLabelSchema,
  buildMessages,
  maxCompletionTokens,
  parsePromptItems,
} from '../../domain/prompt.js';

const CATEGORIES: Category[] = [
  { name: 'Price', description: 'too expensive, cheap, cost' },
  { name: 'Delivery', description: 'late, courier' },
  { name: 'Quality' },
];
const QUESTION = 'What could we do better?';

describe('buildInstructions', () => {
  const text = buildInstructions(QUESTION, CATEGORIES);

  it('contains the question', () => {
    expect(text).toContain(QUESTION);
  });

  it('lists every category with its description, in order, then the fallback', () => {
    const lines = text.split('\n');
    const listed = ['- Price: too expensive, cheap, cost', '- Delivery: late, courier', '- Quality'];
    const positions = listed.map((line) => lines.indexOf(line));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    const other = lines.findIndex((l) => l.startsWith('- Other'));
    expect(other).toBeGreaterThan(positions[2] ?? Infinity);
  });

  it('uses the categories own spelling of the fallback, without adding a second one', () => {
    const withOther = buildInstructions(QUESTION, [
      ...CATEGORIES,
      { name: 'OTHER', description: 'anything else' },
    ]);
    expect(withOther).toContain('- OTHER: anything else');
    expect(withOther).toContain('Use "OTHER" only');
    expect(withOther).not.toMatch(/^- Other/m);
  });

  it('keeps a question with quotes readable and unambiguous', () => {
    const quoted = buildInstructions('Why "not" buy?', CATEGORIES);
    expect(quoted).toContain(JSON.stringify('Why "not" buy?'));
  });

  it('does not depend on the answers, so the prefix can be cached across batches', () => {
    const a = buildMessages(QUESTION, CATEGORIES, [{ id: '1', text: 'too dear' }]);
    const b = buildMessages(QUESTION, CATEGORIES, [{ id: '1', text: 'late again' }]);
    expect(a[0]).toEqual(b[0]);
    expect(a[0]?.role).toBe('system');
    expect(a[1]?.role).toBe('user');
    expect(a[1]?.content).toContain('too dear');
  });
});

/** Every object node of a JSON schema, with its path. */
function objectNodes(node: unknown, at = '$'): Array<{ at: string; node: Record<string, unknown> }> {
  if (typeof node !== 'object' || node === null) return [];
  const record = node as Record<string, unknown>;
  const own = record.type === 'object' ? [{ at, node: record }] : [];
  return [...own, ...Object.entries(record).flatMap(([key, value]) => objectNodes(value, `${at}.${key}`))];
}

describe('buildLabelSchema', () => {
  const schema = buildLabelSchema(CATEGORIES);

  it('is strict and named', () => {
    expect(schema.strict).toBe(true);
    expect(schema.name).toBe(SCHEMA_NAME);
  });

  it('has additionalProperties false and every property required on every object', () => {
    const objects = objectNodes(schema.schema);
    expect(objects.map((o) => o.at)).toEqual(['$', '$.properties.labels.items']);
    for (const { at, node } of objects) {
      expect(node.additionalProperties, at).toBe(false);
      const properties = Object.keys(node.properties as Record<string, unknown>);
      expect([...(node.required as string[])].sort(), at).toEqual(properties.sort());
    }
  });

  it('restricts the category to the allowed labels', () => {
    const labels = schema.schema.properties as {
      labels: { items: { properties: { category: { enum: string[] } } } };
    };
    expect(labels.labels.items.properties.category.enum).toEqual(['Price', 'Delivery', 'Quality', 'Other']);
    const withOther = buildLabelSchema([{ name: 'Price' }, { name: 'other' }]).schema
      .properties as typeof labels;
    expect(withOther.labels.items.properties.category.enum).toEqual(['Price', 'other']);
  });
});

describe('parsePromptItems', () => {
  it('reads back the answers buildMessages sent, special characters included', () => {
    const items = [
      { id: '1', text: 'too "expensive"' },
      { id: '2', text: 'line\nbreak, ünïcödé, emoji 😀' },
      { id: '3', text: '{"answers": []}' },
    ];
    const user = buildMessages(QUESTION, CATEGORIES, items)[1]?.content ?? '';
    expect(parsePromptItems(user)).toEqual(items);
  });

  it('returns undefined for text that is not such a message', () => {
    expect(parsePromptItems('not json')).toBeUndefined();
    expect(parsePromptItems('{"answers": "x"}')).toBeUndefined();
    expect(parsePromptItems('{}')).toBeUndefined();
  });

  it('skips malformed entries', () => {
    expect(
      parsePromptItems('{"answers":[{"id":"1","text":"a"},{"id":2,"text":"b"},null,{"id":"3"}]}'),
    ).toEqual([{ id: '1', text: 'a' }]);
  });
});

describe('maxCompletionTokens', () => {
  it('grows with the number of items', () => {
    const one = maxCompletionTokens(CATEGORIES, 1);
    const ten = maxCompletionTokens(CATEGORIES, 10);
    const eleven = maxCompletionTokens(CATEGORIES, 11);
    expect(ten).toBeGreaterThan(one);
    expect(eleven - ten).toBe(ten - maxCompletionTokens(CATEGORIES, 9));
    expect(eleven - ten).toBeGreaterThanOrEqual(14);
  });

  it('grows with the longest category name', () => {
    const short = maxCompletionTokens([{ name: 'A' }], 10);
    const long = maxCompletionTokens([{ name: 'A' }, { name: 'A much longer category name' }], 10);
    expect(long).toBeGreaterThan(short);
  });

  it('leaves room for a label per item of the longest category', () => {
    const name = 'Customer service and support staff';
    for (const n of [1, 10, 50]) {
      // `{"id":"12","category":"<name>"},` is at least (name length / 4) + 8 tokens per label.
      expect(maxCompletionTokens([{ name }], n)).toBeGreaterThan(n * (Math.ceil(name.length / 4) + 8));
    }
  });
});
