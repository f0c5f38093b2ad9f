/** Gathering warnings while rows stream past: each kind once, its rows counted, the first ones kept. */
import type { SheetWarning, SheetWarningCode } from '../domain/sheet-warnings.js';
import { MAX_LISTED_ROWS } from '../domain/sheet-warnings.js';

interface Kind {
  readonly rows: number[];
  count: number;
  /** The message, given the rows as kept and how many there are in all. */
  readonly describe: (rows: readonly number[], count: number) => string;
}

export class ReadWarnings {
  private readonly kinds = new Map<SheetWarningCode, Kind>();

  /** A row (or, without one, the file as a whole) shows the problem `code`; the first note's `describe` wins. */
  note(
    code: SheetWarningCode,
    row: number | undefined,
    describe: (rows: readonly number[], count: number) => string,
  ): void {
    let kind = this.kinds.get(code);
    if (!kind) {
      kind = { rows: [], count: 0, describe };
      this.kinds.set(code, kind);
    }
    if (row === undefined || kind.rows.at(-1) === row) return;
    kind.count += 1;
    if (kind.rows.length < MAX_LISTED_ROWS) kind.rows.push(row);
  }

  list(): SheetWarning[] {
    return [...this.kinds].map(([code, kind]) => ({
      code,
      message: kind.describe(kind.rows, kind.count),
      rows: [...kind.rows],
      rowCount: kind.count,
    }));
  }
}
