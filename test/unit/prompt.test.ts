import { describe, expect, it } from 'vitest';

import type { Category } from '../../domain/categories.js';
import type { CodingMode } from '../../domain/prompt.js';
import {
  DEFAULT_MAX_CODES,
  SCHEMA_NAME,
  SINGLE_LABEL,
  buildInstructions,
  buildLabelSchema,
  buildMessages,
  codingMode,
  decodeLabels,
  encodeLabels,
  maxCompletionTokens,
  parsePromptItems,
  readCodingRequest,
} from '../../domain/prompt.js';
import { ModelOutputError } from '../../domain/validate.js';

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

describe('single-label mode, as before multi-code', () => {
  // Recorded from the code before multi-code (f165fa8): the same bytes keep prompts cached across a
  // deploy and the figures comparable.
  const cats = [{ name: 'Price', description: 'too expensive, cheap' }, { name: 'Delivery' }];

  it('sends the same instructions, schema and output ceiling', () => {
    expect(buildInstructions('Why "this" score?', cats)).toBe(
      'You code open-ended survey answers ("verbatims") into a fixed list of categories.\nSurvey question: "Why \\"this\\" score?"\nCategories:\n- Price: too expensive, cheap\n- Delivery\n- Other: the answer fits none of the categories above\nRules:\n- Give every answer exactly one category, spelled exactly as listed.\n- Use "Other" only when no other category fits.\n- Return every id you were given exactly once, and no other ids.',
    );
    expect(JSON.stringify(buildLabelSchema(cats))).toBe(
      '{"name":"survey_labels","strict":true,"schema":{"type":"object","properties":{"labels":{"type":"array","items":{"type":"object","properties":{"id":{"type":"string"},"category":{"type":"string","enum":["Price","Delivery","Other"]}},"required":["id","category"],"additionalProperties":false}}},"required":["labels"],"additionalProperties":false}}',
    );
    expect(maxCompletionTokens(cats, 10)).toBe(212);
    expect(buildInstructions('Q', cats, codingMode({}))).toBe(buildInstructions('Q', cats));
    expect(codingMode({ multi: false, maxCodes: 3 })).toEqual(SINGLE_LABEL);
  });
});

describe('multi-code mode', () => {
  const MULTI: CodingMode = { multi: true, maxCodes: 3 };

  it('asks for every category that applies, at most the maximum, the fallback only alone', () => {
    const text = buildInstructions(QUESTION, CATEGORIES, MULTI);
    expect(text).toContain(
      '- Give every answer each category that applies, at most 3, spelled exactly as listed',
    );
    expect(text).toContain('- Use "Other" only when no other category fits, and then alone.');
    expect(text).not.toContain('exactly one category');
    expect(text).toContain('- Price: too expensive, cheap, cost');
  });

  it('has a strict schema whose items hold an array of the enum', () => {
    const schema = buildLabelSchema(CATEGORIES, MULTI);
    expect(schema.strict).toBe(true);
    const objects = objectNodes(schema.schema);
    expect(objects.map((o) => o.at)).toEqual(['$', '$.properties.labels.items']);
    for (const { at, node } of objects) {
      expect(node.additionalProperties, at).toBe(false);
      expect([...(node.required as string[])].sort(), at).toEqual(
        Object.keys(node.properties as object).sort(),
      );
    }
    const item = (schema.schema.properties as { labels: { items: { properties: Record<string, unknown> } } })
      .labels.items.properties;
    expect(item.categories).toEqual({
      type: 'array',
      items: { type: 'string', enum: ['Price', 'Delivery', 'Quality', 'Other'] },
    });
    expect(item.category).toBeUndefined();
  });

  it('leaves room for the maximum of codes per answer, no more than there are labels', () => {
    const single = maxCompletionTokens(CATEGORIES, 10);
    expect(maxCompletionTokens(CATEGORIES, 10, MULTI)).toBeGreaterThan(single);
    expect(maxCompletionTokens(CATEGORIES, 10, { multi: true, maxCodes: 1 })).toBe(single);
    expect(maxCompletionTokens(CATEGORIES, 10, { multi: true, maxCodes: 50 })).toBe(
      maxCompletionTokens(CATEGORIES, 10, { multi: true, maxCodes: 4 }),
    );
  });

  it('defaults the maximum to 5', () => {
    expect(codingMode({ multi: true })).toEqual({ multi: true, maxCodes: DEFAULT_MAX_CODES });
    expect(DEFAULT_MAX_CODES).toBe(5);
  });
});

describe('the wire round trip: what verbatim sends, the simulator reads; what it answers, verbatim decodes', () => {
  const items = [
    { id: '1', text: 'late and expensive' },
    { id: '2', text: 'fine' },
  ];

  it.each([
    ['single-label', SINGLE_LABEL],
    ['multi-code', { multi: true, maxCodes: 4 }],
  ])('%s', (_, mode) => {
    const [system, user] = buildMessages(QUESTION, CATEGORIES, items, mode);
    const request = readCodingRequest(
      system?.content ?? '',
      user?.content ?? '',
      buildLabelSchema(CATEGORIES, mode).schema,
    );
    expect(request).toEqual({
      labels: ['Price', 'Delivery', 'Quality', 'Other'],
      items,
      categories: [
        ...CATEGORIES,
        { name: 'Other', description: 'the answer fits none of the categories above' },
      ],
      mode,
    });
    const labels = [
      { id: '1', labels: mode.multi ? ['Price', 'Delivery'] : ['Price'] },
      { id: '2', labels: ['Other'] },
    ];
    expect(decodeLabels(encodeLabels(labels, mode), mode)).toEqual(labels);
  });

  it('reads no coding from a schema of another shape', () => {
    expect(readCodingRequest('', '', { type: 'object', properties: {} })).toBeUndefined();
    expect(readCodingRequest('', '', undefined)).toBeUndefined();
  });

  it('refuses content of the other mode as malformed', () => {
    const single = encodeLabels([{ id: '1', labels: ['Price'] }], SINGLE_LABEL);
    expect(() => decodeLabels(single, { multi: true, maxCodes: 2 })).toThrow(ModelOutputError);
    const multi = encodeLabels([{ id: '1', labels: ['Price'] }], { multi: true, maxCodes: 2 });
    expect(() => decodeLabels(multi, SINGLE_LABEL)).toThrow(ModelOutputError);
  });
});
