import { describe, expect, it } from 'vitest';
import type { Theme } from '../../domain/codeframe-themes.js';
import {
  MAX_MERGE_ROUNDS,
  applyMerge,
  isFallbackLabel,
  chooseAnswers,
  cleanLabel,
  cutChunks,
  finishDraft,
  measureDraft,
  measureRows,
  mergeSameLabels,
  planMergeRound,
  withIds,
} from '../../domain/codeframe-themes.js';
import { codeframeSettings } from '../../domain/codeframe-job.js';
import { InvalidSettingError } from '../../domain/errors.js';

const theme = (label: string, count: number, extra: Partial<Theme> = {}): Theme => ({
  label,
  description: `about ${label.toLowerCase()}`,
  net: '',
  count,
  examples: [`${label} example`],
  ...extra,
});

describe('chooseAnswers', () => {
  it('reads every unique answer up to the cap, shuffled, the same for the same seed', () => {
    const counts = Array.from({ length: 300 }, () => 1);
    const { chosen, sampled } = chooseAnswers(counts, 300, 1);
    expect(sampled).toBe(false);
    expect([...chosen].sort((a, b) => a - b)).toEqual(counts.map((_, i) => i));
    expect(chosen).not.toEqual(counts.map((_, i) => i));
    expect(chooseAnswers(counts, 300, 1).chosen).toEqual(chosen);
    expect(chooseAnswers(counts, 300, 2).chosen).not.toEqual(chosen);
  });

  it('beyond the cap draws the cap, favouring answers many people gave', () => {
    // 100 answers given by 20 people each, 1,900 given once: the frequent ones are 51 % of the rows.
    const counts = [...Array.from({ length: 100 }, () => 20), ...Array.from({ length: 1_900 }, () => 1)];
    const { chosen, sampled } = chooseAnswers(counts, 500, 1);
    expect(sampled).toBe(true);
    expect(new Set(chosen).size).toBe(500);
    const frequent = chosen.filter((i) => i < 100).length;
    // Uniform would give 25; weighted without replacement takes nearly all of them.
    expect(frequent).toBeGreaterThan(90);
  });

  it('stops at the token budget in the draw order, long answers as likely read as short ones', () => {
    // 2,000 unique answers, every other one long (300 tokens), the rest short (20 tokens).
    const counts = Array.from({ length: 2_000 }, () => 1);
    const cost = (i: number) => (i % 2 === 0 ? 300 : 20);
    const { chosen, sampled } = chooseAnswers(counts, 2_000, 1, { tokens: 50_000, cost });
    expect(sampled).toBe(true);
    const spent = chosen.reduce((s, i) => s + cost(i), 0);
    expect(spent).toBeLessThanOrEqual(50_000);
    expect(spent).toBeGreaterThan(50_000 - 300);
    // Half of what is read is long, as in the column: no short answer is taken to fill the gaps.
    const long = chosen.filter((i) => i % 2 === 0).length;
    expect(Math.abs(long / chosen.length - 0.5)).toBeLessThan(0.1);
    // Within the budget the choice is the one without it, and the same seed reads the same answers.
    expect(chooseAnswers(counts, 300, 1, { tokens: 1e9, cost }).chosen).toEqual(
      chooseAnswers(counts, 300, 1).chosen,
    );
    expect(chooseAnswers(counts, 2_000, 1, { tokens: 50_000, cost }).chosen).toEqual(chosen);
  });
});

describe('cutChunks', () => {
  const options = (tokenTarget: number, maxItems = 150) => ({
    tokenTarget,
    fixedTokens: 500,
    completionTokensPerItem: 5,
    maxItems,
    countTokens: (text: string) => Math.ceil(text.length / 4),
  });
  const items = (n: number, text = 'an answer of about ten tokens, more or less') =>
    Array.from({ length: n }, (_, i) => ({ id: i, text }));

  it('fills chunks up to the token target, then evens them out (no stub chunk)', () => {
    const chunks = cutChunks(items(310), options(4_000));
    // 26 tokens an answer: 134 fit in 4,000 → 3 chunks by the target; evened out to 104, 104, 102.
    expect(chunks.map((c) => c.length)).toEqual([104, 104, 102]);
    expect(chunks.flat().map((x) => x.id)).toEqual(items(310).map((x) => x.id));
  });

  it('caps the answers a chunk holds however short they are', () => {
    expect(cutChunks(items(400, 'ok'), options(100_000, 150)).map((c) => c.length)).toEqual([134, 134, 132]);
  });

  it('cuts no more than maxChunks however long the answers are', () => {
    const long = items(100, 'x'.repeat(20_000)); // 5,000 tokens: one a chunk
    expect(cutChunks(long, options(8_000)).length).toBe(100);
    const bounded = cutChunks(long, options(8_000), 40);
    expect(bounded).toHaveLength(34);
    expect(bounded.flat()).toHaveLength(100);
  });

  it('gives one chunk for few answers and none for none', () => {
    expect(cutChunks(items(7), options(4_000))).toHaveLength(1);
    expect(cutChunks([], options(4_000))).toEqual([]);
  });
});

describe('measureRows', () => {
  it('draws the sample of rows to measure from the seed, apart from the reading draw', () => {
    const rows = measureRows(10_000, 400, 1);
    expect(rows).toHaveLength(400);
    expect(measureRows(10_000, 400, 1)).toEqual(rows);
    expect(measureRows(10_000, 400, 2)).not.toEqual(rows);
    expect(measureRows(30, 400, 1)).toHaveLength(30);
  });
});

describe('cleanLabel', () => {
  it.each([
    ['  Late   delivery. ', 'Late delivery'],
    ['Price: too high', 'Price - too high'],
    ['- Rude staff', 'Rude staff'],
    ['# Not a comment', 'Not a comment'],
    ['[Delivery]', 'Delivery'],
    ['24 hour opening', '24-hour opening'],
    ['3. Parking', '3-Parking'],
  ])('%j → %j (a line the categories file reads back as this label)', (raw, clean) => {
    expect(cleanLabel(raw)).toBe(clean);
  });

  it('shortens a label longer than 80 characters', () => {
    expect([...cleanLabel('x'.repeat(200))]).toHaveLength(80);
  });
});

describe('mergeSameLabels', () => {
  it('joins themes spelled the same (case and spaces aside), summing counts and keeping three examples', () => {
    const merged = mergeSameLabels([
      theme('Late delivery', 5, { examples: ['a', 'b'] }),
      theme('Rude staff', 2),
      theme('late  DELIVERY', 3, { examples: ['b', 'c', 'd'], net: 'Delivery' }),
    ]);
    expect(merged).toHaveLength(2);
    expect(merged[0]).toMatchObject({
      label: 'Late delivery',
      count: 8,
      examples: ['a', 'b', 'c'],
      net: 'Delivery',
    });
  });
});

describe('planMergeRound', () => {
  const themes = (n: number) =>
    Array.from({ length: n }, (_, i) => theme(`Theme ${String(i).padStart(3, '0')}`, 1));
  const plan = (n: number, extra: { round?: number; lastWasFinal?: boolean } = {}) =>
    planMergeRound({
      themes: themes(n),
      round: extra.round ?? 0,
      lastWasFinal: extra.lastWasFinal ?? false,
      maxCodes: 25,
      maxPerCall: 80,
      maxRounds: MAX_MERGE_ROUNDS,
    });

  it('always merges once over every theme, even when few enough: it merges on meaning and writes the labels', () => {
    expect(plan(12)).toEqual({ kind: 'final', groups: [themes(12).map((_, i) => i)], targets: [25] });
  });

  it('cuts more themes than one request takes into even groups, each asked to halve', () => {
    const decision = plan(225);
    if (decision.kind !== 'intermediate') throw new Error(decision.kind);
    expect(decision.groups.map((g) => g.length)).toEqual([75, 75, 75]);
    expect(decision.targets).toEqual([38, 38, 38]);
    expect(new Set(decision.groups.flat()).size).toBe(225);
  });

  it('stops once a final round left at most max-codes, and goes on when it left more', () => {
    expect(plan(20, { round: 1, lastWasFinal: true })).toEqual({ kind: 'done', reason: 'fits' });
    expect(plan(30, { round: 1, lastWasFinal: true }).kind).toBe('final');
  });

  it('stops after the last round allowed, whatever is left', () => {
    expect(plan(300, { round: MAX_MERGE_ROUNDS })).toEqual({ kind: 'done', reason: 'rounds' });
  });

  it('converges: halving groups reach a final round within the bound for 2,000 themes', () => {
    let n = 2_000;
    let round = 0;
    let calls = 0;
    for (;;) {
      const d = plan(n, { round, lastWasFinal: false });
      if (d.kind === 'done') throw new Error('stopped before a final round');
      calls += d.groups.length;
      if (d.kind === 'final') break;
      n = d.targets.reduce((a, b) => a + b, 0);
      round += 1;
    }
    expect(round).toBeLessThan(MAX_MERGE_ROUNDS);
    expect(calls).toBeLessThan(60);
  });
});

describe('applyMerge', () => {
  const inputs = withIds([theme('Late delivery', 5), theme('Orders arrive late', 3), theme('Rude staff', 2)]);

  it('sums the counts of the themes each code takes in, with the new label, description and net', () => {
    const merged = applyMerge(inputs, [
      { label: 'Late delivery', description: 'Orders came late.', net: 'Delivery', themes: ['t1', 't2'] },
      { label: 'Rude staff', description: 'Staff were rude.', net: '', themes: ['t3'] },
    ]);
    expect(merged.leftOut).toEqual([]);
    expect(merged.themes).toEqual([
      {
        label: 'Late delivery',
        description: 'Orders came late.',
        net: 'Delivery',
        count: 8,
        examples: ['Late delivery example', 'Orders arrive late example'],
      },
      {
        label: 'Rude staff',
        description: 'Staff were rude.',
        net: '',
        count: 2,
        examples: ['Rude staff example'],
      },
    ]);
  });

  it('carries over a theme the answer left out, and every theme of a failed request', () => {
    const merged = applyMerge(inputs, [
      { label: 'Late delivery', description: 'x', net: '', themes: ['t1', 't2'] },
    ]);
    expect(merged.themes.map((t) => [t.label, t.count])).toEqual([
      ['Late delivery', 8],
      ['Rude staff', 2],
    ]);
    expect(merged.leftOut).toEqual([]);
    expect(applyMerge(inputs, undefined).themes.map((t) => t.label)).toEqual([
      'Late delivery',
      'Orders arrive late',
      'Rude staff',
    ]);
    // Even the final merge's: a failed request has said nothing of what fits.
    expect(applyMerge(inputs, undefined, true).leftOut).toEqual([]);
  });

  it('the final merge leaves to Other the themes it put in no code', () => {
    const merged = applyMerge(
      inputs,
      [{ label: 'Late delivery', description: 'x', net: '', themes: ['t1', 't2'] }],
      true,
    );
    expect(merged.themes.map((t) => t.label)).toEqual(['Late delivery']);
    expect(merged.leftOut.map((t) => [t.label, t.count])).toEqual([['Rude staff', 2]]);
  });

  it('makes no code of a catch-all: its themes are carried over, or (final) left to Other', () => {
    const codes = [
      { label: 'Late delivery', description: 'x', net: '', themes: ['t1'] },
      { label: 'Miscellaneous', description: 'late, rude', net: '', themes: ['t2', 't3'] },
    ];
    expect(applyMerge(inputs, codes).themes.map((t) => t.label)).toEqual([
      'Late delivery',
      'Orders arrive late',
      'Rude staff',
    ]);
    const final = applyMerge(inputs, codes, true);
    expect(final.themes.map((t) => t.label)).toEqual(['Late delivery']);
    expect(final.leftOut.map((t) => t.label)).toEqual(['Orders arrive late', 'Rude staff']);
  });
});

describe('isFallbackLabel', () => {
  it.each([
    'Other',
    'Others',
    'other ',
    'Miscellaneous',
    'Misc.',
    'Misc',
    'Various',
    'General',
    'General comments',
    'Other comments',
    'Other feedback',
    'Other issues',
    'Other / miscellaneous',
    'Misc. comments',
    'Various other comments',
    'Other (please specify)',
    'Everything else',
    'Miscellaneous feedback',
  ])('%j is a catch-all', (label) => expect(isFallbackLabel(label)).toBe(true));

  it.each([
    'Other customers',
    'General store cleanliness',
    'Various payment options',
    'Late delivery',
    'Mother and baby range',
    'Generally satisfied',
  ])('%j is a code', (label) => expect(isFallbackLabel(label)).toBe(false));
});

describe('finishDraft', () => {
  it('keeps the max-codes largest, and leaves the rest and any "Other" out, named', () => {
    const { codes, overflow } = finishDraft(
      [theme('A', 5), theme('Other', 9), theme('B', 1), theme('C', 3), theme('a', 1)],
      2,
    );
    expect(codes.map((c) => [c.label, c.count])).toEqual([
      ['A', 6],
      ['C', 3],
    ]);
    expect(overflow).toEqual([
      { label: 'Other', count: 9 },
      { label: 'B', count: 1 },
    ]);
  });

  it('folds a catch-all into Other, and names what the final merge left out', () => {
    const { codes, overflow } = finishDraft(
      [theme('A', 5), theme('Miscellaneous', 9), theme('Other comments', 4)],
      3,
      [{ label: 'Parking', count: 2 }],
    );
    expect(codes.map((c) => c.label)).toEqual(['A']);
    expect(overflow.map((o) => o.label)).toEqual(['Miscellaneous', 'Other comments', 'Parking']);
  });
});

describe('measureDraft', () => {
  const draft = [theme('Late delivery', 50), theme('Rude staff', 20), theme('Weather', 1)];

  it('estimates each share as its rows over the rows measured; codes under min-share fold into Other', () => {
    const m = measureDraft(
      draft,
      [
        { text: 'late again', label: 'Late delivery', weight: 30 },
        { text: 'very late', label: 'Late delivery', weight: 10 },
        { text: 'rude man', label: 'Rude staff', weight: 20 },
        { text: 'sunny day', label: 'Weather', weight: 1 },
        { text: 'nothing', label: 'Other', weight: 39 },
      ],
      0.02,
    );
    expect(m.base).toBe(100);
    expect(m.kept.map((k) => [k.label, k.share])).toEqual([
      ['Late delivery', 0.4],
      ['Rude staff', 0.2],
    ]);
    expect(m.folded.map((f) => [f.label, f.share])).toEqual([['Weather', 0.01]]);
    expect(m.covered).toBe(60);
    expect(m.coverage).toBe(0.6);
    expect(m.other).toBe(39);
    // Examples: the measured answers first, most frequent first, then the themes' own.
    expect(m.kept[0]?.examples).toEqual(['late again', 'very late', 'Late delivery example']);
  });

  it('keeps every code, unmeasured, when no batch could be measured', () => {
    const m = measureDraft(draft, [], 0.02);
    expect(m.kept).toHaveLength(3);
    expect(m.folded).toEqual([]);
    expect(m.coverage).toBe(0);
  });
});

describe('codeframeSettings', () => {
  it('fills the defaults and checks each setting, naming it as the command line does', () => {
    expect(codeframeSettings({ maxCodes: 10 }).maxCodes).toBe(10);
    expect(codeframeSettings().readCap).toBe(2_000);
    expect(() => codeframeSettings({ maxCodes: 0 })).toThrow(InvalidSettingError);
    expect(() => codeframeSettings({ minShare: 0.7 })).toThrow(/min-share/);
    expect(() => codeframeSettings({ readCap: 100.5 })).toThrow(/whole number/);
  });
});
