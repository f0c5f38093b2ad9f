import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { describe, expect, it } from 'vitest';

import type { Category } from '../../domain/categories.js';
import type { CodingMode, PromptItem } from '../../domain/prompt.js';
import {
  DEFAULT_MAX_CODES,
  LINE_BREAK,
  PROMPT_TOKENS_PER_ITEM,
  REQUESTS_PER_CACHE_KEY,
  SCHEMA_NAME,
  SINGLE_LABEL,
  buildInstructions,
  buildLabelSchema,
  buildMessages,
  categoriesFromPrompt,
  codingMode,
  decodeLabels,
  encodeLabels,
  formatItems,
  maxCompletionTokens,
  parsePromptItems,
  promptCacheKey,
  promptCacheKeys,
  readCodingRequest,
} from '../../domain/prompt.js';
import { ModelOutputError } from '../../domain/validate.js';

const CATEGORIES: Category[] = [
  { name: 'Price', description: 'too expensive, cheap, cost' },
  { name: 'Delivery', description: 'late, courier' },
  { name: 'Quality' },
];
const QUESTION = 'What could we do better?';
const ITEMS: PromptItem[] = [
  { id: '1', text: 'late and expensive' },
  { id: '2', text: 'fine' },
];
const MULTI: CodingMode = { multi: true, maxCodes: 3 };

describe('buildInstructions', () => {
  const text = buildInstructions(QUESTION, CATEGORIES);

  it('contains the question', () => {
    expect(text).toContain(JSON.stringify(QUESTION));
  });

  it('numbers every category with its description, in order, then the fallback', () => {
    const lines = text.split('\n');
    const listed = [
      '1 "Price": too expensive, cheap, cost',
      '2 "Delivery": late, courier',
      '3 "Quality"',
      '4 "Other": the answer fits none of the other categories',
    ];
    const positions = listed.map((line) => lines.indexOf(line));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(text).toContain('- Use 4 only when no other category fits.');
  });

  it('uses the categories own spelling and place of the fallback, without adding a second one', () => {
    const withOther = buildInstructions(QUESTION, [
      { name: 'OTHER', description: 'anything else' },
      ...CATEGORIES,
    ]);
    expect(withOther).toContain('1 "OTHER": anything else');
    expect(withOther).toContain('- Use 1 only when no other category fits.');
    expect(withOther).not.toMatch(/^\d+ "Other"/m);
  });

  it('keeps names with colons, quotes and line breaks in descriptions readable and unambiguous', () => {
    const odd: Category[] = [
      { name: 'Service: staff', description: 'rude\nhelpful' },
      { name: 'The "best" one' },
    ];
    expect(categoriesFromPrompt(buildInstructions('Why "not" buy?', odd))).toEqual([
      { name: 'Service: staff', description: `rude${LINE_BREAK}helpful` },
      { name: 'The "best" one' },
      { name: 'Other', description: 'the answer fits none of the other categories' },
    ]);
    expect(buildInstructions('Why "not" buy?', odd)).toContain(JSON.stringify('Why "not" buy?'));
  });

  it('does not depend on the answers, so the prefix can be cached across batches', () => {
    const a = buildMessages(QUESTION, CATEGORIES, [{ id: '1', text: 'too dear' }]);
    const b = buildMessages(QUESTION, CATEGORIES, [{ id: '1', text: 'late again' }]);
    expect(a[0]).toEqual(b[0]);
    expect(a[0]?.role).toBe('system');
    expect(a[1]).toEqual({ role: 'user', content: '1\ttoo dear' });
  });

  it('multi-code: every category that applies, at most the maximum, the fallback only alone', () => {
    const multi = buildInstructions(QUESTION, CATEGORIES, MULTI);
    expect(multi).toContain(
      '- Give every answer each category that applies, at most 3, the most important first.',
    );
    expect(multi).toContain('- Use 4 only when no other category fits, and then alone.');
    expect(multi).not.toContain('exactly one category');
    expect(buildInstructions('Q', CATEGORIES, codingMode({}))).toBe(buildInstructions('Q', CATEGORIES));
  });
});

describe('the answers: one line each', () => {
  it('is id, tab, text, a line per answer', () => {
    expect(formatItems(ITEMS)).toBe('1\tlate and expensive\n2\tfine');
  });

  it('sends line breaks as " / " and tabs as spaces, so an answer never spills onto a line of its own', () => {
    const items = [
      { id: '1', text: 'first line\nsecond line\r\nthird\u2028fourth' },
      { id: '2', text: 'a\tb' },
      { id: '3', text: '2\tnot an id' },
    ];
    const user = formatItems(items);
    expect(user.split('\n')).toHaveLength(3);
    expect(parsePromptItems(user)).toEqual([
      { id: '1', text: 'first line / second line / third / fourth' },
      { id: '2', text: 'a b' },
      { id: '3', text: '2 not an id' },
    ]);
  });

  it('reads back special characters as sent, and skips lines without a tab', () => {
    const items = [
      { id: '1', text: 'too "expensive"' },
      { id: '2', text: 'ünïcödé, emoji 😀, {"answers": []}' },
    ];
    expect(parsePromptItems(formatItems(items))).toEqual(items);
    expect(parsePromptItems('not an answer\n1\tyes')).toEqual([{ id: '1', text: 'yes' }]);
  });
});

/** Every object node of a JSON schema, with its path. */
function objectNodes(node: unknown, at = '$'): Array<{ at: string; node: Record<string, unknown> }> {
  if (typeof node !== 'object' || node === null) return [];
  const record = node as Record<string, unknown>;
  const own = record.type === 'object' ? [{ at, node: record }] : [];
  return [...own, ...Object.entries(record).flatMap(([key, value]) => objectNodes(value, `${at}.${key}`))];
}

/** Enum values and properties anywhere in a schema, as OpenAI counts them against its limits. */
function schemaCounts(node: unknown): { enumValues: number; properties: number } {
  if (typeof node !== 'object' || node === null) return { enumValues: 0, properties: 0 };
  const record = node as Record<string, unknown>;
  const own = {
    enumValues: Array.isArray(record.enum) ? record.enum.length : 0,
    properties: record.type === 'object' ? Object.keys(record.properties as object).length : 0,
  };
  return Object.values(record)
    .map(schemaCounts)
    .reduce(
      (a, b) => ({ enumValues: a.enumValues + b.enumValues, properties: a.properties + b.properties }),
      own,
    );
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => ({ id: String(i + 1) }));

describe('buildLabelSchema', () => {
  it('is strict and named, additionalProperties false and every property required on every object', () => {
    for (const mode of [SINGLE_LABEL, MULTI]) {
      const schema = buildLabelSchema(CATEGORIES, ITEMS, mode);
      expect(schema.strict).toBe(true);
      expect(schema.name).toBe(SCHEMA_NAME);
      const objects = objectNodes(schema.schema);
      expect(objects.map((o) => o.at)).toEqual(['$']);
      for (const { at, node } of objects) {
        expect(node.additionalProperties, at).toBe(false);
        expect([...(node.required as string[])].sort(), at).toEqual(
          Object.keys(node.properties as object).sort(),
        );
      }
    }
  });

  it('has a property per id, each referring to one enum of the category numbers', () => {
    expect(buildLabelSchema(CATEGORIES, ITEMS).schema).toEqual({
      type: 'object',
      properties: { '1': { $ref: '#/$defs/c' }, '2': { $ref: '#/$defs/c' } },
      required: ['1', '2'],
      additionalProperties: false,
      $defs: { c: { type: 'integer', enum: [1, 2, 3, 4] } },
    });
    expect(buildLabelSchema(CATEGORIES, ITEMS, MULTI).schema.$defs).toEqual({
      c: { type: 'array', items: { type: 'integer', enum: [1, 2, 3, 4] } },
    });
    expect(buildLabelSchema([{ name: 'Price' }, { name: 'other' }], ITEMS).schema.$defs).toEqual({
      c: { type: 'integer', enum: [1, 2] },
    });
  });

  it('is the same for every batch of the same size, whatever its answers', () => {
    const other = [
      { id: '1', text: 'something else' },
      { id: '2', text: 'entirely' },
    ];
    expect(buildLabelSchema(CATEGORIES, other)).toEqual(buildLabelSchema(CATEGORIES, ITEMS));
  });

  it("stays within OpenAI's limits for 200 answers and 500 categories", () => {
    const many = Array.from({ length: 499 }, (_, i) => ({ name: `Category ${i + 1}` }));
    for (const mode of [SINGLE_LABEL, MULTI]) {
      const { schema } = buildLabelSchema(many, ids(200), mode);
      const counts = schemaCounts(schema);
      expect(counts.properties).toBe(200);
      expect(counts.enumValues).toBe(500);
      expect(counts.enumValues).toBeLessThanOrEqual(1_000);
      const enumText = JSON.stringify((schema.$defs as { c: unknown }).c);
      expect(enumText.length).toBeLessThanOrEqual(15_000);
    }
  });

  it('adds about PROMPT_TOKENS_PER_ITEM prompt tokens an answer, with its line', () => {
    const tokens = (n: number) =>
      countTokens(JSON.stringify(buildLabelSchema(CATEGORIES, ids(n)))) +
      countTokens(formatItems(ids(n).map((i) => ({ ...i, text: '' }))));
    const perItem = (tokens(200) - tokens(100)) / 100;
    expect(perItem).toBeLessThanOrEqual(PROMPT_TOKENS_PER_ITEM);
    expect(perItem).toBeGreaterThan(PROMPT_TOKENS_PER_ITEM - 4);
  });
});

describe('maxCompletionTokens', () => {
  it('grows by a constant per item', () => {
    const ten = maxCompletionTokens(CATEGORIES, 10);
    const eleven = maxCompletionTokens(CATEGORIES, 11);
    expect(eleven - ten).toBe(ten - maxCompletionTokens(CATEGORIES, 9));
  });

  it('leaves room for the longest answer the model can give, as the tokenizer counts it', () => {
    const many = Array.from({ length: 499 }, (_, i) => ({ name: `Category ${i + 1}` }));
    for (const n of [1, 10, 200]) {
      const single = encodeLabels(
        ids(n).map((i) => ({ ...i, labels: ['Category 499'] })),
        many.map((c) => c.name),
        SINGLE_LABEL,
      );
      expect(maxCompletionTokens(many, n)).toBeGreaterThan(countTokens(single));
      const mode: CodingMode = { multi: true, maxCodes: 5 };
      const multi = encodeLabels(
        ids(n).map((i) => ({ ...i, labels: many.slice(494).map((c) => c.name) })),
        many.map((c) => c.name),
        mode,
      );
      expect(maxCompletionTokens(many, n, mode)).toBeGreaterThan(countTokens(multi));
    }
  });

  it('leaves room for the maximum of codes per answer, no more than there are labels', () => {
    const single = maxCompletionTokens(CATEGORIES, 10);
    expect(maxCompletionTokens(CATEGORIES, 10, MULTI)).toBeGreaterThan(single);
    expect(maxCompletionTokens(CATEGORIES, 10, { multi: true, maxCodes: 50 })).toBe(
      maxCompletionTokens(CATEGORIES, 10, { multi: true, maxCodes: 4 }),
    );
  });

  it('defaults the maximum of codes to 5', () => {
    expect(codingMode({ multi: true })).toEqual({ multi: true, maxCodes: DEFAULT_MAX_CODES });
    expect(DEFAULT_MAX_CODES).toBe(5);
    expect(codingMode({ multi: false, maxCodes: 3 })).toEqual(SINGLE_LABEL);
  });
});

describe('decodeLabels', () => {
  it('maps the numbers back to the labels, in the order given', () => {
    expect(decodeLabels('{"2":4,"1":1}', CATEGORIES, SINGLE_LABEL)).toEqual([
      { id: '2', labels: ['Other'] },
      { id: '1', labels: ['Price'] },
    ]);
    expect(decodeLabels('{ "1" : [3, 1], "2": [] }', CATEGORIES, MULTI)).toEqual([
      { id: '1', labels: ['Quality', 'Price'] },
      { id: '2', labels: [] },
    ]);
  });

  it('keeps a value that is no category number as unknown, for that id alone', () => {
    expect(decodeLabels('{"1":5,"2":0,"3":2.5,"4":"Price","5":[1],"6":2}', CATEGORIES, SINGLE_LABEL)).toEqual(
      [
        { id: '1', labels: [], unknown: '5' },
        { id: '2', labels: [], unknown: '0' },
        { id: '3', labels: [], unknown: '2.5' },
        { id: '4', labels: [], unknown: '"Price"' },
        { id: '5', labels: [], unknown: '[1]' },
        { id: '6', labels: ['Delivery'] },
      ],
    );
    expect(decodeLabels('{"1":[1,9],"2":3,"3":[2]}', CATEGORIES, MULTI)).toEqual([
      { id: '1', labels: [], unknown: '9' },
      { id: '2', labels: [], unknown: '3' },
      { id: '3', labels: ['Delivery'] },
    ]);
  });

  it('reports an id given twice twice, although JSON keeps only its last value', () => {
    expect(decodeLabels('{"1":1,"2":2,"1":3}', CATEGORIES, SINGLE_LABEL).map((d) => d.id)).toEqual([
      '1',
      '2',
      '1',
    ]);
    expect(decodeLabels('{"a\\"b":1}', CATEGORIES, SINGLE_LABEL)).toEqual([{ id: 'a"b', labels: ['Price'] }]);
  });

  it.each([['not json'], ['[1,2]'], ['3'], ['null'], [''], [null], [undefined]])(
    'refuses %j as malformed',
    (content) => {
      expect(() => decodeLabels(content, CATEGORIES, SINGLE_LABEL)).toThrow(ModelOutputError);
    },
  );
});

describe('the wire round trip: what verbatim sends, the simulator reads; what it answers, verbatim decodes', () => {
  it.each([
    ['single-label', SINGLE_LABEL],
    ['multi-code', { multi: true, maxCodes: 4 }],
  ])('%s', (_, mode) => {
    const [system, user] = buildMessages(QUESTION, CATEGORIES, ITEMS, mode);
    const request = readCodingRequest(
      system?.content ?? '',
      user?.content ?? '',
      buildLabelSchema(CATEGORIES, ITEMS, mode).schema,
    );
    expect(request).toEqual({
      labels: ['Price', 'Delivery', 'Quality', 'Other'],
      items: ITEMS,
      categories: [
        ...CATEGORIES,
        { name: 'Other', description: 'the answer fits none of the other categories' },
      ],
      mode,
    });
    const labels = [
      { id: '1', labels: mode.multi ? ['Price', 'Delivery'] : ['Price'] },
      { id: '2', labels: ['Other'] },
    ];
    const content = encodeLabels(labels, request?.labels ?? [], mode);
    expect(content).toBe(mode.multi ? '{"1":[1,2],"2":[4]}' : '{"1":1,"2":4}');
    expect(decodeLabels(content, CATEGORIES, mode)).toEqual(labels);
  });

  it('encodes a label off the list as a number past the last, which decodes as unknown', () => {
    const content = encodeLabels([{ id: '1', labels: ['Unlisted'] }], ['Price', 'Other'], SINGLE_LABEL);
    expect(content).toBe('{"1":3}');
    expect(decodeLabels(content, [{ name: 'Price' }], SINGLE_LABEL)).toEqual([
      { id: '1', labels: [], unknown: '3' },
    ]);
  });

  it('reads no coding from a schema of another shape, or instructions that do not match its enum', () => {
    const [system, user] = buildMessages(QUESTION, CATEGORIES, ITEMS);
    expect(readCodingRequest('', '', { type: 'object', properties: {} })).toBeUndefined();
    expect(readCodingRequest('', '', undefined)).toBeUndefined();
    const fewer = buildLabelSchema(CATEGORIES.slice(1), ITEMS).schema;
    expect(readCodingRequest(system?.content ?? '', user?.content ?? '', fewer)).toBeUndefined();
  });

  it('refuses content of the other mode per id, not as a whole', () => {
    const single = encodeLabels([{ id: '1', labels: ['Price'] }], ['Price', 'Other'], SINGLE_LABEL);
    expect(decodeLabels(single, CATEGORIES, MULTI)).toEqual([{ id: '1', labels: [], unknown: '1' }]);
  });
});

describe("tokens an answer, as OpenAI's tokenizer counts them", () => {
  it('answers in about 4 output tokens where {"id","category"} took about 9', () => {
    const labels = ['Price', 'Delivery', 'Product quality', 'Customer service', 'Website and app', 'Other'];
    const answers = ids(100).map((i, k) => ({ ...i, labels: [labels[k % labels.length] ?? 'Other'] }));
    const compact = countTokens(encodeLabels(answers, labels, SINGLE_LABEL)) / 100;
    const before = countTokens(
      JSON.stringify({ labels: answers.map((a) => ({ id: a.id, category: a.labels[0] })) }),
    );
    expect(compact).toBeLessThanOrEqual(4.1);
    expect(before / 100).toBeGreaterThan(2 * compact);
  });
});

describe('the layout, pinned', () => {
  // Every byte here is in the prompt cache's prefix and in the bill: change them on purpose only.
  it('sends these instructions, answers, schema and output ceiling', () => {
    const cats = [{ name: 'Price', description: 'too expensive, cheap' }, { name: 'Delivery' }];
    expect(buildInstructions('Why "this" score?', cats)).toBe(
      [
        'You code open-ended survey answers ("verbatims") into numbered categories.',
        'Survey question: "Why \\"this\\" score?"',
        'Categories:',
        '1 "Price": too expensive, cheap',
        '2 "Delivery"',
        '3 "Other": the answer fits none of the other categories',
        'Rules:',
        '- Give every answer exactly one category.',
        '- Use 3 only when no other category fits.',
        '- Each answer is one line: its id, a tab, its text ("/" marks a line break in it).',
        '- Reply with each id and its category number.',
      ].join('\n'),
    );
    expect(JSON.stringify(buildLabelSchema(cats, ids(2)))).toBe(
      '{"name":"survey_codes","strict":true,"schema":{"type":"object","properties":{"1":{"$ref":"#/$defs/c"},"2":{"$ref":"#/$defs/c"}},"required":["1","2"],"additionalProperties":false,"$defs":{"c":{"type":"integer","enum":[1,2,3]}}}}',
    );
    expect(maxCompletionTokens(cats, 10)).toBe(96);
  });
});

describe('prompt_cache_key', () => {
  it('is the job id and a spread key chosen by batch index, so a retried batch keeps its key', () => {
    expect(promptCacheKey('job-abc', 0, 4)).toBe('job-abc-0');
    expect(promptCacheKey('job-abc', 9, 4)).toBe('job-abc-1');
    expect(promptCacheKey('job-abc', 9, 4)).toBe(promptCacheKey('job-abc', 9, 4));
    expect(promptCacheKey('job-abc', 9, 1)).toBe('job-abc-0');
  });

  it('spreads a job over enough keys to keep each near 15 requests a minute, one when it runs alone', () => {
    const options = { parallel: true, maxWorkers: 5, batchSize: 10 as number | 'auto' };
    for (const [maxWorkers, batchSize] of [
      [5, 10],
      [5, 100],
      [50, 50],
      [1, 200],
    ] as const) {
      const keys = promptCacheKeys({ ...options, maxWorkers, batchSize });
      // The rate the keys are sized for: each slot a request every 0.7 s plus four tokens an answer at 70/s.
      const perMinute = (maxWorkers * 60) / (0.7 + (batchSize * 4) / 70);
      expect(perMinute / keys).toBeLessThanOrEqual(REQUESTS_PER_CACHE_KEY);
      expect(perMinute / (keys - 1 || 1)).toBeGreaterThan(keys === 1 ? 0 : REQUESTS_PER_CACHE_KEY);
    }
    expect(promptCacheKeys({ ...options, parallel: false, batchSize: 100 })).toBe(1);
    expect(promptCacheKeys({ ...options, batchSize: 'auto' })).toBe(
      promptCacheKeys({ ...options, batchSize: 100 }),
    );
  });
});
