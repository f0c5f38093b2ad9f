import { describe, expect, it } from 'vitest';

import type { Respondent } from '../../domain/banner-tables.js';
import { MAX_BANNER_VALUES, bannerTable, tableNotes, tablesRows } from '../../domain/banner-tables.js';
import { codeframeOf } from '../../domain/codeframe.js';
import { parseBanner } from '../../domain/crosstab.js';
import { InvalidBannerGroupsError, InvalidSettingError } from '../../domain/errors.js';

describe('parseBanner', () => {
  it('a column alone', () => {
    expect(parseBanner(' Region ')).toEqual({ spec: 'Region', column: 'Region' });
  });

  it('a column and groups, named after ":" or "="', () => {
    const colon = parseBanner('NPS=0-6:Detractors,7-8:Passives,9-10:Promoters');
    expect(colon.column).toBe('NPS');
    expect(colon.groupsText).toBe('0-6:Detractors,7-8:Passives,9-10:Promoters');
    expect(colon.groups?.groups).toEqual(['Detractors', 'Passives', 'Promoters']);
    expect([0, 7, 10].map((v) => colon.groups?.(v))).toEqual(['Detractors', 'Passives', 'Promoters']);
    expect(parseBanner('Score = 1-3=Low, 4-5=High').groups?.groups).toEqual(['Low', 'High']);
    expect(parseBanner('Score=nps').groups?.groups).toEqual(['Detractors', 'Passives', 'Promoters']);
  });

  it('a question text holding "=": the column ends where the groups begin', () => {
    expect(parseBanner('Rate us (0=bad, 10=great)')).toMatchObject({ column: 'Rate us (0=bad, 10=great)' });
    const b = parseBanner('Rate us (0=bad)=0-4,5-10');
    expect(b.column).toBe('Rate us (0=bad)');
    expect(b.groups?.groups).toEqual(['0-4', '5-10']);
  });

  it('refuses groups that do not read, with their reason; and an empty banner', () => {
    expect(() => parseBanner('NPS=0-6,5-10')).toThrow(InvalidBannerGroupsError);
    expect(() => parseBanner('NPS=0-6,5-10')).toThrow(/groups 1 \("0-6"\) and 2 \("5-10"\) overlap/);
    expect(() => parseBanner('NPS=7-2')).toThrow(/starts above where it ends/);
    expect(() => parseBanner('  ')).toThrow(InvalidSettingError);
  });
});

const CODEFRAME = codeframeOf([
  { name: 'Price' },
  { name: 'Delivery', net: 'Logistics' },
  { name: 'Returns', net: 'Logistics' },
]);

/** `n` respondents from rows `first…`, the first `withPrice` coded Price, the rest Delivery and Returns. */
function people(first: number, n: number, withPrice: number): Respondent[] {
  return Array.from({ length: n }, (_, i) => ({
    row: first + i,
    labels: i < withPrice ? ['Price'] : ['Delivery', 'Returns'],
  }));
}

describe('bannerTable and the Tables sheet', () => {
  // North: rows 1–40, 12 with Price; South: rows 101–130 and West: rows 201–230, 15 with Price each.
  const respondents = [...people(1, 40, 12), ...people(101, 30, 15), ...people(201, 30, 15)];
  const values = new Map(
    respondents.map(({ row }) => [row, row < 100 ? 'North' : row < 200 ? 'South' : 'West']),
  );
  const table = bannerTable({
    banner: parseBanner('Region'),
    column: 'C',
    header: 'Region',
    values,
    respondents,
    codeframe: CODEFRAME,
  });

  it('marks North lower on Price, by the arithmetic of the z-test', () => {
    // North against the rest: 12/40 = 0.30 against (15 + 15)/(30 + 30) = 0.50. Pooled p = 42/100 = 0.42;
    // SE = √(0.42 · 0.58 · (1/40 + 1/60)) = √(0.2436 · 0.0416667) = √0.01015 = 0.1007472;
    // z = (0.30 − 0.50) / 0.1007472 = −1.98517; two-sided p = 2 · Φ(−1.98517) = 0.04713 < 0.05 → ▼.
    const price = table.table!.lines.find((l) => l.label === 'Price')!;
    expect(price.cells[0]!.p).toBeCloseTo(0.04713, 5);
    expect(price.cells.map((c) => c.mark)).toEqual(['lower', undefined, undefined, undefined]);

    const rows = tablesRows([table], 'E2');
    expect(rows[0]).toEqual(['E2 by Region']);
    expect(rows[2]).toEqual([
      'Code',
      'North',
      '% North',
      null,
      'South',
      '% South',
      null,
      'West',
      '% West',
      null,
      'Total',
      '% Total',
    ]);
    expect(rows[3]).toEqual(['Base', 40, null, null, 30, null, null, 30, null, null, 100, null]);
    expect(rows[4]).toEqual(['Price', 12, 0.3, '▼', 15, 0.5, null, 15, 0.5, null, 42, 0.42]);
  });

  it('counts a net once per respondent and shows it after the codes, the notes under the table', () => {
    const rows = tablesRows([table], 'E2');
    // Every non-Price respondent has both Delivery and Returns: the net counts each of them once.
    const net = rows.find((r) => r[0] === 'NET Logistics')!;
    expect([net[1], net[4], net[7], net[10]]).toEqual([28, 15, 15, 58]);
    const notes = tableNotes(table);
    expect(notes.some((n) => n.includes('two-proportion z-test'))).toBe(true);
    expect(rows.slice(-notes.length)).toEqual(notes.map((n) => [n]));
  });

  it('groups a numeric banner and counts respondents outside every group in Total only', () => {
    const scores = new Map(
      respondents.map(({ row }, i) => [row, i % 12 === 11 ? 'no answer' : String(i % 11)]),
    );
    const t = bannerTable({
      banner: parseBanner('NPS=nps'),
      column: 'D',
      header: 'NPS',
      values: scores,
      respondents,
      codeframe: CODEFRAME,
    });
    const expected = (from: number, to: number) =>
      respondents.filter((_, i) => i % 12 !== 11 && i % 11 >= from && i % 11 <= to).length;
    expect(t.table!.columns.map((c) => [c.label, c.base])).toEqual([
      ['Detractors', expected(0, 6)],
      ['Passives', expected(7, 8)],
      ['Promoters', expected(9, 10)],
      ['Total', 100],
    ]);
    expect(t.table!.noBanner).toBe(respondents.filter((_, i) => i % 12 === 11).length);
    expect(tableNotes(t).at(-1)).toMatch(/have no value in "NPS" within the groups: counted in Total only/);
  });

  it(`refuses a banner with more than ${MAX_BANNER_VALUES} values, saying how to group it`, () => {
    const ids = new Map(respondents.map(({ row }) => [row, `R${row}`]));
    const t = bannerTable({
      banner: parseBanner('ID'),
      column: 'A',
      header: 'ID',
      values: ids,
      respondents,
      codeframe: CODEFRAME,
    });
    expect(t.table).toBeUndefined();
    expect(t.refused).toMatch(/"ID" has 100 different values .* "ID=0-6,7-8,9-10"/);
    expect(tablesRows([t], 'E2')).toEqual([['E2 by ID'], [], [t.refused]]);
  });
});
