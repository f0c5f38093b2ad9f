/** The banner columns of a job's sheet (region, wave, NPS score), read whole for the tables by segment. */
import { columnLetter } from '../domain/columns.js';
import type { BannerSpec } from '../domain/crosstab.js';
import { BannerNotFoundError, InvalidWorkbookError } from '../domain/errors.js';
import { cellText } from './cells.js';
import type { HeadRow } from './layout.js';
import { cellAt, describeColumns, detectHeader, locateColumn } from './layout.js';
import { scan } from './read.js';
import type { SheetRequest } from './sources.js';
import { openSheet } from './sources.js';

export interface BannerColumn {
  readonly banner: BannerSpec;
  readonly column: string;
  /** The header cell's text; the letter when it is empty. */
  readonly header: string;
  /** Sheet row → the cell's text, for the data rows holding one. */
  readonly values: ReadonlyMap<number, string>;
}

/** One streaming pass over the sheet, keeping only the banners' cells. */
export async function readBannerColumns(
  request: SheetRequest,
  banners: readonly BannerSpec[],
): Promise<BannerColumn[]> {
  const sheet = await openSheet(request);
  let located: Array<{ index: number; header: string; values: Map<number, string> }> | undefined;
  let lastHeaderRow = 0;
  const settle = (head: readonly HeadRow[]) => {
    const detected = detectHeader(head);
    located = banners.map((b) => {
      const layout = locateColumn(head, b.column);
      if (layout?.column === undefined) {
        throw new BannerNotFoundError(
          request.displayName,
          sheet.name,
          b.column,
          describeColumns(detected?.headerRow),
        );
      }
      lastHeaderRow = Math.max(lastHeaderRow, layout.lastHeaderRow);
      const header = cellAt(layout.headerRow, layout.column).text.trim() || columnLetter(layout.column);
      return { index: layout.column, header, values: new Map<number, string>() };
    });
  };
  await scan(sheet.rows, settle, (raw) => {
    if (!located || raw.number <= lastHeaderRow) return;
    for (const l of located) {
      const text = cellText(raw.values[l.index - 1]).trim();
      if (text !== '') l.values.set(raw.number, text);
    }
  });
  if (!located) {
    throw new InvalidWorkbookError(request.displayName, `sheet ${JSON.stringify(sheet.name)} is empty`);
  }
  return located.map((l, i) => ({
    banner: banners[i]!,
    column: columnLetter(l.index),
    header: l.header,
    values: l.values,
  }));
}
