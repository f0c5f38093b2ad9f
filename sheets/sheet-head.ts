/**
 * What a sheet part says before its rows, which exceljs's streaming reader drops: the used range
 * (`<dimension>`), the view (frozen panes, right-to-left, zoom) and the column widths (the reader's own
 * `<cols>` handling in 4.4 calls `Column.fromModel` with the wrong arguments and always yields none).
 */
import type { WorksheetView, WorksheetViewCommon } from 'exceljs';

export interface ColumnWidth {
  readonly min: number;
  readonly max: number;
  readonly width: number | undefined;
  readonly hidden: boolean;
}

export interface SheetHead {
  /** The last row of the sheet's declared used range; absent when the writer left it out. */
  readonly lastRow: number | undefined;
  readonly views: Array<Partial<WorksheetView>>;
  readonly columns: readonly ColumnWidth[];
}

export function parseSheetHead(xml: string): SheetHead {
  const data = xml.search(/<(?:\w+:)?sheetData\b/);
  const head = data === -1 ? xml : xml.slice(0, data);
  return { lastRow: lastRowOf(head), views: viewsOf(head), columns: columnsOf(head) };
}

function lastRowOf(head: string): number | undefined {
  const ref = attributes(firstTag(head, 'dimension') ?? '').get('ref');
  const match = ref ? /(\d+)$/.exec(ref) : null;
  return match?.[1] ? Number(match[1]) : undefined;
}

function viewsOf(head: string): Array<Partial<WorksheetView>> {
  const viewTag = firstTag(head, 'sheetView');
  if (viewTag === undefined) return [];
  const view = attributes(viewTag);
  const end = head.search(/<\/(?:\w+:)?sheetView>/);
  const inner = end === -1 ? '' : head.slice(head.indexOf(viewTag) + viewTag.length, end);
  const pane = attributes(firstTag(inner, 'pane') ?? '');
  const selection = attributes(firstTag(inner, 'selection') ?? '');

  const common: Partial<WorksheetViewCommon> = {};
  if (isTrue(view.get('rightToLeft'))) common.rightToLeft = true;
  const gridLines = view.get('showGridLines');
  if (gridLines !== undefined && !isTrue(gridLines)) common.showGridLines = false;
  const zoom = Number(view.get('zoomScale'));
  if (Number.isFinite(zoom) && zoom > 0) common.zoomScale = zoom;
  const activeCell = selection.get('activeCell');
  if (activeCell) common.activeCell = activeCell;

  const xSplit = Number(pane.get('xSplit') ?? 0);
  const ySplit = Number(pane.get('ySplit') ?? 0);
  const topLeftCell = pane.get('topLeftCell');
  const paneState = pane.get('state');
  if (paneState === 'frozen' || paneState === 'frozenSplit') {
    return [{ ...common, state: 'frozen', xSplit, ySplit, ...(topLeftCell ? { topLeftCell } : {}) }];
  }
  if (pane.size > 0) {
    return [{ ...common, state: 'split', xSplit, ySplit, ...(topLeftCell ? { topLeftCell } : {}) }];
  }
  return [{ ...common, state: 'normal' }];
}

function columnsOf(head: string): ColumnWidth[] {
  const columns: ColumnWidth[] = [];
  for (const match of head.matchAll(/<(?:\w+:)?col\b([^>]*)\/?>/g)) {
    const attrs = attributes(match[1] ?? '');
    const min = Number(attrs.get('min'));
    const max = Number(attrs.get('max'));
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min) continue;
    const width = Number(attrs.get('width'));
    columns.push({
      min,
      max,
      width: Number.isFinite(width) ? width : undefined,
      hidden: isTrue(attrs.get('hidden')),
    });
  }
  return columns;
}

function firstTag(xml: string, name: string): string | undefined {
  return new RegExp(`<(?:\\w+:)?${name}\\b[^>]*>`).exec(xml)?.[0];
}

function attributes(tag: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const [, name, value] of tag.matchAll(/([\w:]+)\s*=\s*"([^"]*)"/g)) {
    if (name !== undefined && value !== undefined) attrs.set(name, value);
  }
  return attrs;
}

function isTrue(value: string | undefined): boolean {
  return value === '1' || value === 'true';
}
