import { describe, expect, it } from 'vitest';
import {
  MERGE_SCHEMA_NAME,
  THEMES_SCHEMA_NAME,
  buildExtractionMessages,
  buildMergeMessages,
  extractionSchema,
  mergeSchema,
  readExtractionRequest,
  readMergeRequest,
  validateExtraction,
  validateMerge,
} from '../../domain/codeframe-prompt.js';
import { ModelOutputError } from '../../domain/validate.js';

const items = [
  { id: '1', text: 'delivery was late' },
  { id: '2', text: 'staff were rude' },
  { id: '3', text: 'late again, and rude' },
];

/** Every object of a strict schema: all properties required, no others allowed (OpenAI refuses otherwise). */
function expectStrict(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  const n = node as {
    type?: string;
    properties?: Record<string, unknown>;
    required?: string[];
    additionalProperties?: unknown;
    items?: unknown;
  };
  if (n.type === 'object') {
    expect(n.additionalProperties).toBe(false);
    expect([...(n.required ?? [])].sort()).toEqual(Object.keys(n.properties ?? {}).sort());
    for (const p of Object.values(n.properties ?? {})) expectStrict(p);
  }
  if (n.items) expectStrict(n.items);
}

describe('extraction requests', () => {
  it('are strict json_schema requests, answers last, readable back by the simulator', () => {
    const schema = extractionSchema();
    expect(schema.name).toBe(THEMES_SCHEMA_NAME);
    expect(schema.strict).toBe(true);
    expectStrict(schema.schema);
    const [system, user] = buildExtractionMessages('Why that score?', items, 20);
    expect(system?.content).toMatch(/Survey question: "Why that score\?"/);
    expect(readExtractionRequest(system?.content ?? '', user?.content ?? '')).toEqual({
      items,
      maxThemes: 20,
    });
  });

  it('keep ids of the chunk only, drop themes left with none, and keep the max themes with the most answers', () => {
    const content = JSON.stringify({
      themes: [
        { label: 'Late delivery', description: 'Late.', ids: ['1', '3', '3', '99'] },
        { label: 'Ghost', description: 'Nobody.', ids: ['42'] },
        { label: 'Rude staff:', description: ' Rude \n staff. ', ids: ['2', '3'] },
        { label: 'One-off', description: 'Once.', ids: ['2'] },
      ],
    });
    expect(validateExtraction(content, items, 2)).toEqual([
      { label: 'Late delivery', description: 'Late.', ids: ['1', '3'] },
      { label: 'Rude staff', description: 'Rude staff.', ids: ['2', '3'] },
    ]);
  });

  it.each([
    ['not json', 'model output is not JSON'],
    ['{"labels": []}', 'no "themes" array'],
    ['{"themes": [{"label": "x", "ids": []}]}', 'lacks a string'],
  ])('refuse %j as a retryable model output error', (content, message) => {
    expect(() => validateExtraction(content, items, 20)).toThrow(ModelOutputError);
    expect(() => validateExtraction(content, items, 20)).toThrow(message);
  });
});

describe('merge requests', () => {
  const themes = [
    { id: 't1', label: 'Late delivery', description: 'Late.', answers: 5 },
    { id: 't2', label: 'Orders arrive late', description: 'Late too.', answers: 3 },
  ];

  it('are strict json_schema requests that state their target, readable back by the simulator', () => {
    const schema = mergeSchema();
    expect(schema.name).toBe(MERGE_SCHEMA_NAME);
    expectStrict(schema.schema);
    const [system, user] = buildMergeMessages('Why?', themes, 25, true);
    expect(system?.content).toMatch(/at most 25 codes/);
    expect(system?.content).toMatch(/net/);
    expect(readMergeRequest(system?.content ?? '', user?.content ?? '')).toEqual({
      themes,
      target: 25,
      leaveOut: true,
    });
    // The final merge may leave out what fits no code (for Other), and makes no catch-all.
    expect(system?.content).toMatch(/Leave out the themes that fit none of the codes: they go to "Other"/);
    expect(system?.content).toMatch(/Make no catch-all code \("Miscellaneous"/);
    const [intermediate] = buildMergeMessages('Why?', themes, 25, false);
    expect(intermediate?.content).toMatch(/a theme left out is kept as it is/);
    expect(intermediate?.content).not.toMatch(/Other"\.$/m);
  });

  it('take codes over the ids sent, leaving ids out allowed', () => {
    const content = JSON.stringify({
      codes: [{ label: 'Late delivery', description: 'Late.', net: 'Delivery', themes: ['t1'] }],
    });
    expect(validateMerge(content, ['t1', 't2'])).toEqual([
      { label: 'Late delivery', description: 'Late.', net: 'Delivery', themes: ['t1'] },
    ]);
  });

  it('refuse an id not sent, or one in two codes', () => {
    const code = (ids: string[]) => ({ label: 'x', description: 'y', net: '', themes: ids });
    expect(() => validateMerge(JSON.stringify({ codes: [code(['t9'])] }), ['t1'])).toThrow(/t9 was not sent/);
    expect(() => validateMerge(JSON.stringify({ codes: [code(['t1']), code(['t1'])] }), ['t1'])).toThrow(
      /t1 is in two codes/,
    );
    expect(() => validateMerge('{"codes": [{"label": "x"}]}', ['t1'])).toThrow(ModelOutputError);
  });
});
