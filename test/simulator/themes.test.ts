import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MergeItem } from '../../domain/codeframe-prompt.js';
import {
  buildExtractionMessages,
  buildMergeMessages,
  extractionMaxTokens,
  extractionSchema,
  mergeMaxTokens,
  mergeSchema,
  validateExtraction,
  validateMerge,
} from '../../domain/codeframe-prompt.js';
import { promptId } from '../../domain/plan.js';
import type { Simulator } from '../../simulator/index.js';
import { expectedLabel, startSimulator } from '../../simulator/index.js';
import {
  CATCH_ALL_LABELS,
  SPURIOUS_THEMES,
  THEME_CATALOGUE,
  generateThemedAnswers,
  isSpuriousLabel,
  themeOfAnswer,
  themeOfLabel,
  themeShares,
} from '../../simulator/themes.js';
import { clientFor } from './helpers.js';

let sim: Simulator;
let client: OpenAI;

beforeAll(async () => {
  sim = await startSimulator();
  client = clientFor(sim);
});
afterAll(async () => {
  await sim?.close();
});

const items = (texts: readonly string[]) => texts.map((text, i) => ({ id: promptId(i), text }));

async function extract(texts: readonly string[], maxThemes = 20) {
  const chunk = items(texts);
  const response = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: buildExtractionMessages('Why that score?', chunk, maxThemes),
    response_format: { type: 'json_schema', json_schema: extractionSchema() },
    max_completion_tokens: extractionMaxTokens(chunk.length, maxThemes),
  });
  const content = response.choices[0]?.message.content ?? null;
  return { content, themes: validateExtraction(content, chunk, maxThemes), chunk };
}

/** The rule of the merge prompt before the final merge could leave themes out. */
const EVERY_THEME = '- List the ids of the themes each code takes in: every theme id exactly once.';

async function merge(themes: readonly MergeItem[], target: number, everyTheme = false) {
  const messages = buildMergeMessages('Why that score?', themes, target, true).map((m) =>
    everyTheme && m.role === 'system'
      ? {
          ...m,
          content: m.content.replace(/^- List the ids of the themes each code takes in.*$/m, EVERY_THEME),
        }
      : m,
  );
  expect(messages[0]?.content.includes(EVERY_THEME)).toBe(everyTheme);
  const response = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages,
    response_format: { type: 'json_schema', json_schema: mergeSchema() },
    max_completion_tokens: mergeMaxTokens(themes.length, target),
  });
  return validateMerge(
    response.choices[0]?.message.content ?? null,
    themes.map((t) => t.id),
  );
}

describe('generateThemedAnswers', () => {
  it('writes answers whose theme the keyword rule finds again, in the catalogue shares', () => {
    const answers = generateThemedAnswers(20_000, 5);
    for (const a of answers.slice(0, 2_000)) expect(themeOfAnswer(a.text)?.key ?? null, a.text).toBe(a.theme);
    const shares = themeShares(answers);
    for (const t of THEME_CATALOGUE)
      expect(Math.abs((shares.get(t.key) ?? 0) - t.share), t.key).toBeLessThan(0.006);
    // Themes above 2 %, one between 1 and 2 %, three under 1 %: what recall and folding are tested on.
    expect(THEME_CATALOGUE.filter((t) => t.share >= 0.02)).toHaveLength(11);
    expect(THEME_CATALOGUE.filter((t) => t.share < 0.01)).toHaveLength(3);
    expect(generateThemedAnswers(50, 5)).toEqual(answers.slice(0, 50));
    // Repeats, as real surveys have, and yet many distinct wordings.
    const distinct = new Set(answers.map((a) => a.text)).size;
    expect(distinct).toBeGreaterThan(3_000);
    expect(distinct).toBeLessThan(10_000);
  });

  it('knows each wording of each theme, and no wording twice', () => {
    const wordings = THEME_CATALOGUE.flatMap((t) => t.wordings);
    expect(new Set(wordings.map((w) => w.toLowerCase())).size).toBe(wordings.length);
    for (const t of THEME_CATALOGUE)
      for (const w of t.wordings) expect(themeOfLabel(w.toUpperCase())?.key).toBe(t.key);
    for (const s of SPURIOUS_THEMES) {
      expect(themeOfLabel(s.label)).toBeUndefined();
      expect(isSpuriousLabel(s.label)).toBe(true);
    }
  });
});

describe('theme extraction by the simulator', () => {
  it('finds each answer’s theme and names each theme present with a wording of it', async () => {
    sim.configure({ themes: { spuriousRate: 0 } });
    const answers = generateThemedAnswers(150, 11);
    const { themes, chunk } = await extract(answers.map((a) => a.text));
    const present = new Set(answers.flatMap((a) => (a.theme ? [a.theme] : [])));
    expect(new Set(themes.map((t) => themeOfLabel(t.label)?.key))).toEqual(present);
    for (const t of themes) {
      const key = themeOfLabel(t.label)?.key;
      for (const id of t.ids) {
        const position = chunk.findIndex((c) => c.id === id);
        expect(answers[position]?.theme).toBe(key);
      }
      // Its description carries the keywords: coding with it finds the theme's answers again.
      const category = { name: t.label, description: t.description };
      for (const id of t.ids) {
        const text = chunk.find((c) => c.id === id)?.text ?? '';
        expect(expectedLabel(text, [category])).toBe(t.label);
      }
    }
    const carried = answers.filter((a) => a.theme).length;
    expect(themes.reduce((n, t) => n + t.ids.length, 0)).toBe(carried);
  });

  it('answers the same request the same way, but words themes differently from one request to another', async () => {
    sim.configure({ themes: { spuriousRate: 0 } });
    const first = await extract(generateThemedAnswers(100, 1).map((a) => a.text));
    expect((await extract(generateThemedAnswers(100, 1).map((a) => a.text))).content).toBe(first.content);
    const wordings = new Map<string, Set<string>>();
    for (let seed = 20; seed < 30; seed += 1) {
      for (const t of (await extract(generateThemedAnswers(100, seed).map((a) => a.text))).themes) {
        const key = themeOfLabel(t.label)?.key ?? '?';
        wordings.set(key, (wordings.get(key) ?? new Set()).add(t.label));
      }
    }
    // Over ten chunks the frequent themes come back under two or more names.
    expect(wordings.get('price')?.size).toBeGreaterThan(1);
    expect(wordings.get('late')?.size).toBeGreaterThan(1);
  });

  it('adds a spurious one-off theme on one answer when its rate says so, and keeps to the maximum', async () => {
    sim.configure({ themes: { spuriousRate: 1 } });
    const { themes } = await extract(generateThemedAnswers(80, 3).map((a) => a.text));
    const spurious = themes.filter((t) => isSpuriousLabel(t.label));
    expect(spurious).toHaveLength(1);
    expect(spurious[0]?.ids).toHaveLength(1);
    const capped = await extract(
      generateThemedAnswers(80, 3).map((a) => a.text),
      4,
    );
    expect(capped.themes).toHaveLength(4);
    sim.configure({ themes: { spuriousRate: 0 } });
    expect(
      (await extract(generateThemedAnswers(80, 3).map((a) => a.text))).themes.some((t) =>
        isSpuriousLabel(t.label),
      ),
    ).toBe(false);
  });
});

describe('theme merging by the simulator', () => {
  const item = (id: string, label: string, answers = 10): MergeItem => ({
    id,
    label,
    description: 'x',
    answers,
  });

  it('merges wordings of the same theme into one code with its net; a spurious theme stays alone', async () => {
    const codes = await merge(
      [
        item('t1', 'Late delivery', 30),
        item('t2', 'Orders arrive late', 12),
        item('t3', 'Weather on the day', 1),
        item('t4', 'High prices', 20),
        item('t5', 'Delivery delays', 5),
      ],
      25,
    );
    expect(codes).toHaveLength(3);
    const late = codes.find((c) => themeOfLabel(c.label)?.key === 'late');
    expect([...(late?.themes ?? [])].sort()).toEqual(['t1', 't2', 't5']);
    expect(late?.net).toBe('Delivery');
    expect(late?.description).toBe('late, delayed, took ages, still waiting');
    expect(codes.find((c) => c.label === 'Weather on the day')?.themes).toEqual(['t3']);
  });

  it('keeps to the target: told it may leave themes out, it leaves out the smallest groups', async () => {
    const themes = THEME_CATALOGUE.slice(0, 6).map((t, i) => item(`t${i + 1}`, t.wordings[0] ?? '', 60 - i));
    const codes = await merge(themes, 4);
    expect(codes.map((c) => c.themes)).toEqual([['t1'], ['t2'], ['t3'], ['t4']]);
    expect(codes.every((c) => themeOfLabel(c.label) !== undefined)).toBe(true);
  });

  it('asked for every theme in a code (or tempted), lumps the smallest groups into a catch-all', async () => {
    const themes = THEME_CATALOGUE.slice(0, 6).map((t, i) => item(`t${i + 1}`, t.wordings[0] ?? '', 60 - i));
    const codes = await merge(themes, 4, true);
    expect(codes).toHaveLength(4);
    expect(CATCH_ALL_LABELS).toContain(codes.at(-1)?.label);
    expect(codes.at(-1)?.themes).toEqual(['t4', 't5', 't6']);
    sim.configure({ themes: { catchAllRate: 1 } });
    try {
      const tempted = await merge(themes, 4);
      expect(CATCH_ALL_LABELS).toContain(tempted.at(-1)?.label);
      expect(tempted.at(-1)?.themes).toEqual(['t4', 't5', 't6']);
    } finally {
      sim.configure({ themes: { catchAllRate: 0 } });
    }
  });

  it('counts extraction and merge requests apart in its stats', async () => {
    sim.resetStats();
    await extract(['the app crashes']);
    await merge([item('t1', 'App crashes')], 5);
    await merge([item('t1', 'App crashes')], 5);
    expect(sim.stats().byTask).toEqual({ extract: 1, merge: 2 });
  });
});
