/**
 * Errors a person can act on: each names what is wrong with the input (file, sheet, column, row, value)
 * and carries it in readonly fields. Activities throw them as they are; the workflow's retry policy lists
 * their class names as non-retryable, and the API maps them to 4xx answers.
 */
export class DomainError extends Error {
  readonly code: string;
  /** The input field the error is about, for API problem bodies (`column`, `sheet`, `categories`, …). */
  readonly field: string | undefined;

  constructor(code: string, message: string, field?: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.field = field;
  }
}

export class InputFileNotFoundError extends DomainError {
  constructor(readonly file: string) {
    super('input_file_not_found', `Input file not found: ${file}`, 'file');
  }
}

export class InvalidWorkbookError extends DomainError {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super('invalid_workbook', `${file} cannot be read as a spreadsheet: ${reason}`, 'file');
  }
}

export class SheetNotFoundError extends DomainError {
  constructor(
    readonly file: string,
    readonly sheet: string,
    readonly available: readonly string[],
  ) {
    // A number is a name or a position in tab order (1-based): say why neither matched.
    const wanted = /^\d+$/.test(sheet.trim())
      ? `Sheet ${JSON.stringify(sheet)} not found in ${file}: no sheet has that name, and there are only ${available.length}`
      : `Sheet ${JSON.stringify(sheet)} not found in ${file}`;
    super(
      'sheet_not_found',
      `${wanted}. Sheets: ${available.map((s) => JSON.stringify(s)).join(', ') || '(none)'}`,
      'sheet',
    );
  }
}

export class ColumnNotFoundError extends DomainError {
  constructor(
    readonly file: string,
    readonly sheet: string,
    readonly column: string,
    readonly available: readonly string[],
  ) {
    super(
      'column_not_found',
      columnMessage(`Column ${JSON.stringify(column)}`, sheet, file, available),
      'column',
    );
  }
}

/**
 * "<named> <reason> in sheet "S" of F.", and when the column is not found at all, how to name one and the
 * sheet's columns: one wording for the answer column, the column coded by hand and each banner.
 */
function columnMessage(
  named: string,
  sheet: string,
  file: string,
  available: readonly string[],
  reason = 'not found',
): string {
  const hint =
    reason === 'not found'
      ? ` Give a header, a column letter or the question text. Columns: ${available.join(', ') || '(none)'}`
      : '';
  return `${named} ${reason} in sheet ${JSON.stringify(sheet)} of ${file}.${hint}`;
}

/** The column was found, but no row below its header holds an answer: there is nothing to code. */
export class NoAnswersError extends DomainError {
  constructor(
    readonly file: string,
    readonly sheet: string,
    readonly column: string,
    readonly headerRow: number,
    readonly reason = '',
  ) {
    super(
      'no_answers',
      `Column ${JSON.stringify(column)} of sheet ${JSON.stringify(sheet)} in ${file} has no answers: ` +
        `no row below its header (row ${headerRow}) has text in it${reason ? ` (${reason})` : ''}.`,
      'column',
    );
  }
}

export class EmptyCategoriesError extends DomainError {
  constructor(readonly source: string) {
    super(
      'empty_categories',
      `No categories given (${source}): list at least one, one per line.`,
      'categories',
    );
  }
}

export class OnlyFallbackCategoryError extends DomainError {
  constructor(
    readonly source: string,
    readonly label: string,
  ) {
    super(
      'only_fallback_category',
      `The categories (${source}) list only ${JSON.stringify(label)}, the label for answers that fit no category: list the categories to code into.`,
      'categories',
    );
  }
}

export class DuplicateCategoriesError extends DomainError {
  constructor(readonly duplicates: readonly string[]) {
    super(
      'duplicate_categories',
      `Duplicate categories (names compare without case and surrounding spaces): ${duplicates.map((d) => JSON.stringify(d)).join(', ')}`,
      'categories',
    );
  }
}

/** Where a codeframe entry was read: a line of a text file, or a row of a spreadsheet. */
export type CodeframePlace = 'line' | 'row';

export class InvalidCategoryError extends DomainError {
  constructor(
    readonly line: number,
    readonly value: string,
    readonly reason: string,
    /** The file (or field) the codeframe came from, when known. */
    readonly source?: string,
    readonly place: CodeframePlace = 'line',
  ) {
    super(
      'invalid_category',
      `Category on ${place} ${line}${source ? ` of ${source}` : ''} (${JSON.stringify(value)}) ${reason}`,
      'categories',
    );
  }
}

/** Two codeframe entries share a code: both are named, so the person can pick which to renumber. */
export class DuplicateCodeError extends InvalidCategoryError {
  constructor(
    readonly duplicateCode: number,
    readonly first: { readonly line: number; readonly name: string },
    readonly second: { readonly line: number; readonly name: string },
    source?: string,
    place: CodeframePlace = 'line',
  ) {
    super(
      second.line,
      second.name,
      `has code ${duplicateCode}, which ${first.line > 0 ? `${place} ${first.line} (${JSON.stringify(first.name)}) already has` : `the fallback ${JSON.stringify(first.name)} keeps unless the codeframe gives it a number`}: codes must be unique`,
      source,
      place,
    );
  }
}

/** A codeframe table whose header row has no `label` column: says what it found and what is expected. */
export class CodeframeColumnsError extends DomainError {
  constructor(
    readonly source: string,
    readonly row: number,
    readonly found: readonly string[],
  ) {
    super(
      'invalid_category',
      `${source}: the header row (row ${row}) has no "label" column (found ${found.join(', ') || 'nothing'}). ` +
        'A codeframe table has the columns code, label, description and net, named in its first row; only label is required.',
      'categories',
    );
  }
}

export class InvalidSettingError extends DomainError {
  constructor(
    readonly setting: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super('invalid_setting', `${setting}=${JSON.stringify(value)}: ${reason}`, setting);
  }
}

export class TooManyCategoriesError extends DomainError {
  constructor(
    readonly count: number,
    readonly max: number,
  ) {
    super('too_many_categories', `${count} categories given: at most ${max}.`, 'categories');
  }
}

/** A banner grouping such as `0-6,7-8,9-10` or `0-6=Detractors,7-8=Passives,9-10=Promoters` that cannot be read. */
export class InvalidBannerGroupsError extends DomainError {
  constructor(
    readonly spec: string,
    readonly reason: string,
  ) {
    super(
      'invalid_banner_groups',
      `Banner groups ${JSON.stringify(spec)}: ${reason}. ` +
        'Write ranges such as 0-6,7-8,9-10, or name them: 0-6=Detractors,7-8=Passives,9-10=Promoters.',
      'bannerGroups',
    );
  }
}

/** A banner column (`--by`, API `by`) that is not in the sheet, or holds nothing to split the table by. */
export class BannerNotFoundError extends DomainError {
  constructor(
    readonly file: string,
    readonly sheet: string,
    readonly banner: string,
    readonly available: readonly string[],
    reason = 'not found',
  ) {
    super(
      'banner_not_found',
      columnMessage(`Banner column ${JSON.stringify(banner)} (by)`, sheet, file, available, reason),
      'by',
    );
  }
}

/** The column coded by hand (`goldColumn`, `--gold-column`) is not in the sheet, or holds nothing. */
export class GoldColumnNotFoundError extends DomainError {
  constructor(
    readonly file: string,
    readonly sheet: string,
    readonly column: string,
    readonly available: readonly string[],
    reason = 'not found',
  ) {
    super(
      'column_not_found',
      columnMessage(
        `Column coded by hand ${JSON.stringify(column)} (goldColumn)`,
        sheet,
        file,
        available,
        reason,
      ),
      'goldColumn',
    );
  }
}

/**
 * Several mistakes in one request, each its own error (the column, the column coded by hand, each banner):
 * reported together so that a person fixes them at once. Named by the first one's code and field.
 */
export class InputProblemsError extends DomainError {
  constructor(readonly errors: readonly DomainError[]) {
    const [head] = errors;
    super(head?.code ?? 'invalid_input', errors.map((e) => e.message).join(' '), head?.field);
  }
}

/** Throws the mistakes found, if any: one as itself, several together as an `InputProblemsError`. */
export function throwProblems(problems: readonly DomainError[]): void {
  if (problems.length > 1) throw new InputProblemsError(problems);
  if (problems[0]) throw problems[0];
}

/** The job (or its stored files) cannot be found: an unknown id, or a store that was cleaned up. */
export class JobNotFoundError extends DomainError {
  constructor(readonly jobId: string) {
    super('job_not_found', `No job ${JSON.stringify(jobId)}`, 'jobId');
  }
}

/** The job has not written its coded output yet (it is still running, or failed before): nothing to export. */
export class JobResultNotReadyError extends DomainError {
  constructor(readonly jobId: string) {
    super('result_not_ready', `Job ${JSON.stringify(jobId)} has no coded output yet`, 'jobId');
  }
}

/** No codeframe draft by this id (or its files are gone). */
export class CodeframeNotFoundError extends DomainError {
  constructor(readonly codeframeId: string) {
    super('codeframe_not_found', `No codeframe draft ${JSON.stringify(codeframeId)}`, 'codeframeId');
  }
}

/** Class names the workflow lists as non-retryable: retrying cannot fix the input. */
export const NON_RETRYABLE_ERROR_TYPES = [
  'DomainError',
  'InputFileNotFoundError',
  'InvalidWorkbookError',
  'SheetNotFoundError',
  'ColumnNotFoundError',
  'NoAnswersError',
  'EmptyCategoriesError',
  'OnlyFallbackCategoryError',
  'DuplicateCategoriesError',
  'InvalidCategoryError',
  'DuplicateCodeError',
  'CodeframeColumnsError',
  'TooManyCategoriesError',
  'InvalidSettingError',
  'InvalidBannerGroupsError',
  'BannerNotFoundError',
  'JobNotFoundError',
  'JobResultNotReadyError',
] as const;
