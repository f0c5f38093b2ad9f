import { describe, expect, it } from 'vitest';

import { parseCategories } from '../../domain/categories.js';
import { codeframeOf } from '../../domain/codeframe.js';
import type { QualityRow } from '../../domain/quality.js';
import { QUALITY_FIGURES, agreementLine, notComparedLine, qualityReport } from '../../domain/quality.js';

const codeframe = codeframeOf(parseCategories('Price\nDelivery\nApp', 'test'));

const row = (n: number, model: string[], gold?: string, confidence?: number | null): QualityRow => ({
  row: n,
  answer: `answer ${n}`,
  model,
  ...(gold !== undefined ? { gold } : {}),
  ...(confidence !== undefined ? { confidence } : {}),
});

describe('qualityReport', () => {
  it('matches gold labels without case or spaces, lists unknown ones with their row, and compares them as they are', () => {
    const report = qualityReport({
      codeframe,
      multi: false,
      goldHeader: 'E2 coded by hand',
      reviewBelow: 0.7,
      rows: [
        row(2, ['Price'], '  PRICE '),
        row(3, ['Delivery'], 'delivery'),
        row(4, ['App'], 'Prise'),
        row(5, ['Other'], undefined),
        row(6, ['Other'], ''),
      ],
    });
    expect(report.unknownGold).toEqual([{ row: 4, labels: ['Prise'] }]);
    expect(report.summary).toMatchObject({
      rows: 3,
      exactAgreement: 2 / 3,
      unknownGoldLabels: 1,
      reviewRows: 1,
    });
    expect(report.quality?.slice(1, 7).map((r) => r[0])).toEqual([...QUALITY_FIGURES]);
    expect(report.review).toEqual([
      ['Row', 'Answer', 'Human', 'Model', 'Why listed'],
      [4, 'answer 4', 'Prise', 'App', 'human and model disagree'],
    ]);
  });

  it('counts the hand-coded rows it does not compare, by reason, below the six fixed figures', () => {
    const report = qualityReport({
      codeframe,
      multi: true,
      goldHeader: 'G',
      reviewBelow: 0.7,
      rows: [row(2, ['Price'], 'Price'), row(3, ['App'], ' ; '), row(4, ['App'], 'App')],
      notCoded: { invalid: 4, empty: 3, alreadyCoded: 2, uncoded: 1 },
    });
    expect(report.summary?.rows).toBe(2);
    expect(report.summary?.notCompared).toEqual({
      rows: 11,
      invalid: 4,
      empty: 3,
      alreadyCoded: 2,
      uncoded: 1,
      noLabel: 1,
    });
    const sheet = report.quality ?? [];
    expect(sheet.slice(1, 7).map((r) => r[0])).toEqual([...QUALITY_FIGURES]);
    expect(sheet[7]).toEqual([]);
    expect(sheet[8]).toEqual([
      'Human-coded rows not compared',
      11,
      '4 invalid answers (N/A, -, ?), 3 empty answers, 2 already coded in the file, 1 not coded (the job stopped first), 1 gold cell with no label',
    ]);
    expect(notComparedLine(report.summary!)).toBe(
      'Not compared: 11 human-coded rows (4 invalid answers (N/A, -, ?), 3 empty answers, 2 already coded in the file, 1 not coded (the job stopped first), 1 gold cell with no label)',
    );
    // Every gold row compared: the sheet says 0, the CLI nothing.
    const all = qualityReport({
      codeframe,
      multi: false,
      goldHeader: 'G',
      reviewBelow: 0.7,
      rows: [row(2, ['Price'], 'Price')],
    });
    expect(all.quality?.[8]).toEqual(['Human-coded rows not compared', 0]);
    expect(notComparedLine(all.summary!)).toBeUndefined();
  });

  it('reads `;`-joined gold cells as sets in multi-code mode', () => {
    const report = qualityReport({
      codeframe,
      multi: true,
      goldHeader: 'G',
      reviewBelow: 0.7,
      rows: [row(2, ['Price', 'App'], 'app; PRICE'), row(3, ['Price'], 'Price;Delivery')],
    });
    expect(report.summary?.exactAgreement).toBe(0.5);
    expect(report.review?.slice(1).map((r) => r[0])).toEqual([3]);
  });

  it('without a gold column, reviews only answers under the threshold, and has no Quality sheet', () => {
    const report = qualityReport({
      codeframe,
      multi: false,
      reviewBelow: 0.7,
      rows: [
        row(2, ['Price'], undefined, 0.95),
        row(3, ['App'], undefined, 0.4),
        row(4, ['App'], undefined, null),
      ],
    });
    expect(report.quality).toBeUndefined();
    expect(report.summary).toBeUndefined();
    expect(report.review).toEqual([
      ['Row', 'Answer', 'Model', 'Confidence', 'Why listed'],
      [3, 'answer 3', 'App', 0.4, 'confidence under 0.7'],
    ]);
  });

  it('splits agreement at the threshold when confidences are given', () => {
    const report = qualityReport({
      codeframe,
      multi: false,
      goldHeader: 'G',
      reviewBelow: 0.7,
      rows: [row(2, ['Price'], 'Price', 0.9), row(3, ['App'], 'Price', 0.5), row(4, ['App'], 'App', 0.6)],
    });
    expect(report.summary?.byConfidence).toMatchObject({
      atOrAbove: { rows: 1, exactAgreement: 1 },
      below: { rows: 2, exactAgreement: 0.5 },
    });
    expect(report.summary?.reviewRows).toBe(2);
  });

  it("after a review, splits by confidence on the first model's labels and gives the first pass's figures", () => {
    const rows: QualityRow[] = [
      row(2, ['Price'], 'Price', 0.9),
      { ...row(3, ['Price'], 'Price', 0.5), first: ['App'] }, // the review fixed it
      { ...row(4, ['App'], 'App', 0.6), first: ['App'] }, // the review kept the first label
    ];
    const report = qualityReport({
      codeframe,
      multi: false,
      goldHeader: 'G',
      reviewBelow: 0.7,
      rows,
      models: { first: 'gpt-4o-mini', review: 'gpt-4.1' },
    });
    expect(report.summary?.exactAgreement).toBe(1);
    // Under the threshold the first model had 1 of 2 right: the review model's 2 of 2 is not its figure.
    expect(report.summary?.byConfidence).toMatchObject({
      atOrAbove: { rows: 1, exactAgreement: 1 },
      below: { rows: 2, exactAgreement: 0.5 },
    });
    expect(report.summary?.beforeReview).toMatchObject({
      model: 'gpt-4o-mini',
      recoded: 2,
      exactAgreement: 2 / 3,
    });
    const sheet = report.quality ?? [];
    expect(sheet.slice(1, 7).map((r) => r[0])).toEqual([...QUALITY_FIGURES]);
    const at = sheet.findIndex((r) => String(r[0]).startsWith('Before the review'));
    expect(sheet[at]?.[0]).toBe(
      "Before the review: gpt-4o-mini's labels alone (2 of the rows compared coded again by gpt-4.1)",
    );
    expect(sheet[at + 1]).toEqual(['Exact agreement, first model', 2 / 3]);
    expect(sheet.find((r) => r[0] === '< 0.7')).toEqual(['< 0.7', 2, 0.5]);
    expect(sheet.some((r) => r[0] === "First model's confidence")).toBe(true);
    expect(report.review?.[0]).toContain("First model's confidence");
    // Without a review, no first-pass table.
    const plain = qualityReport({
      codeframe,
      multi: false,
      goldHeader: 'G',
      reviewBelow: 0.7,
      rows: [rows[0]!],
    });
    expect(plain.summary?.beforeReview).toBeUndefined();
    expect(plain.quality?.some((r) => String(r[0]).startsWith('Before the review'))).toBe(false);
  });

  it('prints the one line the CLI shows', () => {
    expect(
      agreementLine({
        goldHeader: 'E2 coded by hand',
        rows: 312,
        exactAgreement: 0.9134,
        kappa: 0.8912,
        alpha: 0.8907,
        microF1: 0.9134,
        macroF1: 0.881,
        unknownGoldLabels: 0,
        reviewRows: 27,
      }),
    ).toBe('Agreement with "E2 coded by hand" on 312 rows: 91.3 %, κ 0.89, α 0.89, macro F1 0.88');
  });
});
