/**
 * Tables by segment: the job's codes and nets crossed with each banner column (region, wave, an NPS score
 * in groups), as the `Tables` sheet, the API and the job card show them. Pure: the rows come in read.
 */
import type { Codeframe } from './codeframe.js';
import type { BannerSpec, Crosstab, CrosstabRow } from './crosstab.js';
import { SIGNIFICANCE_TEST, crosstab } from './crosstab.js';
import type { ReportRow } from './report-row.js';

/** More distinct values than this make no readable table: the banner is refused with how to group it. */
export const MAX_BANNER_VALUES = 40;

/** Who the tables count, for the note under each. */
export const TABLES_BASE =
  'Base: respondents with a code (coded by the model or already in the file); empty, invalid and fallback ' +
  "rows are left out. A respondent with several codes counts in each, so a column's percentages can sum past " +
  '100 %; a net counts respondents with any of its codes once.';

/** The marks as the tables print them. */
export const MARKS = { higher: '▲', lower: '▼' } as const;

export interface BannerTable {
  /** The banner as asked for (`NPS=0-6,7-8,9-10`). */
  readonly banner: string;
  /** Its column's letter and header in the sheet. */
  readonly column: string;
  readonly header: string;
  /** The grouping, when the banner has one. */
  readonly groups?: string;
  readonly table?: Crosstab;
  /** Why there is no table (too many values to table without groups). */
  readonly refused?: string;
}

/** A respondent of the job: the sheet row and its codes (see `codedRows`' `onRespondent`). */
export interface Respondent {
  readonly row: number;
  readonly labels: readonly string[];
}

export interface BannerTableInput {
  readonly banner: BannerSpec;
  readonly column: string;
  readonly header: string;
  /** Sheet row → the banner cell's text, for the rows that have one. */
  readonly values: ReadonlyMap<number, string>;
  readonly respondents: readonly Respondent[];
  readonly codeframe: Codeframe;
}

/** The crosstab of one banner, or why there is none. */
export function bannerTable(input: BannerTableInput): BannerTable {
  const { banner, codeframe } = input;
  const group = banner.groups;
  const rows: CrosstabRow[] = input.respondents.map(({ row, labels }) => {
    const value = input.values.get(row) ?? '';
    return { labels, banner: group ? group(value) : value };
  });
  const about = {
    banner: banner.spec,
    column: input.column,
    header: input.header,
    ...(banner.groupsText !== undefined ? { groups: banner.groupsText } : {}),
  };
  if (!group) {
    const values = new Set(rows.map((r) => r.banner?.trim() ?? '').filter((v) => v !== ''));
    if (values.size > MAX_BANNER_VALUES) {
      return {
        ...about,
        refused:
          `${JSON.stringify(input.header)} has ${values.size} different values among the coded rows, more than ` +
          `${MAX_BANNER_VALUES} columns can show. Group a numeric column into ranges: ` +
          `${JSON.stringify(`${banner.column}=0-6,7-8,9-10`)}, or ${JSON.stringify(`${banner.column}=1-3:Low,4-7:Mid,8-10:High`)}.`,
      };
    }
  }
  const table = crosstab(rows, {
    codes: codeframe.categories.map((c) => c.name),
    nets: codeframe.nets.map((n) => ({ name: n.name, codes: n.categories })),
    ...(group ? { columns: group.groups } : {}),
  });
  return { ...about, table };
}

/** What the table says under it: the base, the test, and who counts in Total only. */
export function tableNotes(t: BannerTable): string[] {
  if (!t.table) return [];
  const notes = [TABLES_BASE, `${MARKS.higher} ${MARKS.lower} ${SIGNIFICANCE_TEST}`];
  const { noBanner } = t.table;
  if (noBanner > 0) {
    notes.push(
      `${noBanner} ${noBanner === 1 ? 'respondent has' : 'respondents have'} no value in ${JSON.stringify(t.header)}` +
        `${t.groups ? ' within the groups' : ''}: counted in Total only.`,
    );
  }
  return notes;
}

/**
 * The `Tables` sheet: per banner a title, then code by column (count, `%` of the column's base and the
 * mark; Total without a mark), the base on the first line, the nets after the codes, and the notes.
 */
export function tablesRows(tables: readonly BannerTable[], answerHeader: string): ReportRow[] {
  const rows: ReportRow[] = [];
  for (const t of tables) {
    if (rows.length > 0) rows.push([], []);
    rows.push([`${answerHeader} by ${t.header}${t.groups ? ` (${t.groups})` : ''}`]);
    rows.push([]);
    if (!t.table) {
      rows.push([t.refused ?? 'No table.']);
      continue;
    }
    const { columns, lines } = t.table;
    // A header whose text starts with `%` formats its column as a percentage (see reportFormats).
    rows.push([
      'Code',
      ...columns.flatMap((c) => (c.total ? [c.label, `% ${c.label}`] : [c.label, `% ${c.label}`, null])),
    ]);
    rows.push(['Base', ...columns.flatMap((c) => (c.total ? [c.base, null] : [c.base, null, null]))]);
    for (const line of lines) {
      rows.push([
        line.kind === 'net' ? `NET ${line.label}` : line.label,
        ...line.cells.flatMap((cell, j) =>
          columns[j]?.total
            ? [cell.count, cell.percent]
            : [cell.count, cell.percent, cell.mark ? MARKS[cell.mark] : null],
        ),
      ]);
    }
    rows.push([]);
    for (const note of tableNotes(t)) rows.push([note]);
  }
  return rows;
}
