/**
 * The model's coding measured against a human-coded column (the "gold"): which rows are compared, the
 * figures (domain/agreement.ts computes them), the `Quality` and `Review` sheets, and the one line the CLI
 * prints. Pure: the output activity hands in the rows.
 *
 * - Compared: rows the model coded in this job (the fallback included: it is a category like any other)
 *   that have a gold cell. Rows coded before the job, empty or invalid answers, and rows a cancel left
 *   uncoded are not the model's work and stay out; they are counted, by reason (`NotCompared`), on the
 *   Quality sheet and in the figures, so that rows compared plus rows left out make the gold cells.
 * - A gold cell is read as the codeframe reads a category cell: one label, or several joined by `;` in
 *   multi-code mode, matched case-insensitively. A label the codeframe does not have is listed with its row
 *   and still compared (as a category of its own, which the model cannot have given): dropping it would
 *   flatter the model.
 */
import type { AgreementFigures, ConfidenceSplit, ConfusionMatrix } from './agreement.js';
import { agreementByConfidence, multiLabelAgreement, singleLabelAgreement } from './agreement.js';
import { categoryKey } from './categories.js';
import type { Codeframe } from './codeframe.js';
import { LABEL_SEPARATOR, LabelIndex } from './codeframe.js';
import type { ReportRow } from './report-row.js';

/** REVIEW_BELOW's default: answers the model was less sure of than this go to the Review sheet. */
export const DEFAULT_REVIEW_BELOW = 0.7;

/** The first column of the Quality sheet's first table, in order: programs and tests look them up. */
export const QUALITY_FIGURES = [
  'Rows compared',
  'Exact agreement',
  "Cohen's kappa",
  "Krippendorff's alpha",
  'Micro F1',
  'Macro F1',
] as const;

export interface QualityRow {
  readonly row: number;
  readonly answer: string;
  /** The model's labels as written (the fallback's name for a fallen-back row). */
  readonly model: readonly string[];
  /** The gold cell's text; undefined when the row has none (or there is no gold column). */
  readonly gold?: string | undefined;
  /** 0–1, or null when none could be computed; undefined when confidence was not asked for. */
  readonly confidence?: number | null | undefined;
  /** The first model's labels, when the review model coded the row again (`model` holds its labels). */
  readonly first?: readonly string[] | undefined;
  /** The row's answer was shown to the model as an example: left out of the agreement. */
  readonly example?: boolean | undefined;
}

/** Rows with a gold cell that were not compared, by reason (rows shown as examples are counted apart). */
export interface NotCompared {
  /** All of them. */
  readonly rows: number;
  /** Answers taken as invalid (N/A, -, ?): never sent to the model. */
  readonly invalid: number;
  /** Empty answers. */
  readonly empty: number;
  /** Rows whose category cell was filled before the job: not the model's coding. */
  readonly alreadyCoded: number;
  /** Rows the job did not get to (a cancel or a failure stopped it first). */
  readonly uncoded: number;
  /** Gold cells with no label in them (only `;` and spaces). */
  readonly noLabel: number;
}

/** The rows the model did not code that have a gold cell, by reason: the output activity counts them. */
export type NotCodedGold = Omit<NotCompared, 'rows' | 'noLabel'>;

export const NO_GOLD_LEFT_OUT: NotCodedGold = { invalid: 0, empty: 0, alreadyCoded: 0, uncoded: 0 };

export interface QualityInput {
  readonly codeframe: Codeframe;
  readonly multi: boolean;
  /** The gold column's header; undefined: no gold column, only the confidence review. */
  readonly goldHeader?: string | undefined;
  /** The rows the model coded in this job, in sheet order. */
  readonly rows: readonly QualityRow[];
  /** Rows with a gold cell that the model did not code in this job, by reason. */
  readonly notCoded?: NotCodedGold | undefined;
  readonly reviewBelow: number;
  /** With a second opinion: the first model and the review model, named on the Review sheet. */
  readonly models?: { readonly first: string; readonly review: string } | undefined;
}

/** The agreement figures of the first model's labels, before the review model coded some rows again. */
export interface FirstModelFigures {
  readonly model: string;
  /** Rows the review model coded again (its label kept) among the rows compared. */
  readonly recoded: number;
  readonly exactAgreement: number | null;
  readonly kappa: number | null;
  readonly alpha: number | null;
  readonly microF1: number | null;
  readonly macroF1: number | null;
}

/** The figures that travel (result.json, `GET /jobs/:id`, the CLI line): no per-row data. */
export interface QualitySummary {
  readonly goldHeader: string;
  readonly rows: number;
  readonly exactAgreement: number | null;
  readonly kappa: number | null;
  readonly alpha: number | null;
  readonly microF1: number | null;
  readonly macroF1: number | null;
  /** Gold cells naming labels outside the codeframe (listed on the Quality sheet). */
  readonly unknownGoldLabels: number;
  /** Rows on the Review sheet. */
  readonly reviewRows: number;
  /**
   * Agreement at or above and below `reviewBelow`, when the model gave confidences: of the first model's
   * labels, whose confidences they are (after a review, rows under the threshold carry the review model's).
   */
  readonly byConfidence?: ConfidenceSplit;
  /** After a second opinion: the figures of the first model's labels alone, before the review. */
  readonly beforeReview?: FirstModelFigures;
  /** Rows with a gold cell left out because their answer was shown to the model as an example. */
  readonly exampleRows?: number;
  /** Rows with a gold cell not compared, by reason (absent in results from before it was counted). */
  readonly notCompared?: NotCompared;
}

export interface QualityReport {
  /** Undefined without a gold column. */
  readonly summary: QualitySummary | undefined;
  /** The Quality sheet; undefined without a gold column. */
  readonly quality: ReportRow[] | undefined;
  /** The Review sheet; undefined when there is no gold column and no answer under the threshold. */
  readonly review: ReportRow[] | undefined;
  readonly unknownGold: ReadonlyArray<{ readonly row: number; readonly labels: readonly string[] }>;
}

export function qualityReport(input: QualityInput): QualityReport {
  const { codeframe, multi, goldHeader, reviewBelow } = input;
  const index = new LabelIndex(codeframe);
  const names = codeframe.categories.map((c) => c.name);
  const compared: Array<{ row: QualityRow; human: string[] }> = [];
  const unknownGold: Array<{ row: number; labels: string[] }> = [];
  let exampleRows = 0;
  let noLabel = 0;
  if (goldHeader !== undefined) {
    for (const row of input.rows) {
      if (row.gold === undefined || row.gold.trim() === '') continue;
      // The model saw this answer with its human label: comparing it would flatter the model.
      if (row.example) {
        exampleRows += 1;
        continue;
      }
      // The codeframe's labels in its spelling, then the unknown ones as written.
      const { labels: human, unknown } = index.readCell(row.gold, multi);
      if (unknown.length > 0) unknownGold.push({ row: row.row, labels: unknown });
      if (human.length > 0) compared.push({ row, human });
      else if (unknown.length === 0) noLabel += 1;
    }
  }
  const withConfidence = input.rows.some((r) => r.confidence !== undefined);

  // The figures of a set of labels per compared row: the final ones, or the first model's.
  const agreement = (
    labelsOf: (row: QualityRow) => readonly string[],
  ): { figures: AgreementFigures; confusion?: ConfusionMatrix } => {
    if (multi) {
      const pairs = compared.map(({ row, human }) => ({ human, model: labelsOf(row) }));
      return { figures: multiLabelAgreement(pairs, names) };
    }
    const single = singleLabelAgreement(
      compared.map(({ row, human }) => ({ human: human[0] ?? '', model: labelsOf(row)[0] ?? '' })),
      names,
    );
    return { figures: single, confusion: single.confusion };
  };
  const firstLabels = (row: QualityRow) => row.first ?? row.model;
  let figures: AgreementFigures | undefined;
  let confusion: ConfusionMatrix | undefined;
  let beforeReview: FirstModelFigures | undefined;
  if (goldHeader !== undefined) {
    ({ figures, confusion } = agreement((row) => row.model));
    const recoded = compared.filter(({ row }) => row.first !== undefined).length;
    if (input.models && input.rows.some((r) => r.first !== undefined)) {
      const first = agreement(firstLabels).figures;
      beforeReview = {
        model: input.models.first,
        recoded,
        exactAgreement: first.exactAgreement,
        kappa: first.kappa,
        alpha: first.alpha,
        microF1: first.microF1,
        macroF1: first.macroF1,
      };
    }
  }
  // The confidence is the first model's, of its own label: the split says how far that label can be trusted.
  const byConfidence =
    figures && withConfidence
      ? agreementByConfidence(
          compared.map(({ row, human }) => ({
            human,
            model: firstLabels(row),
            confidence: row.confidence ?? null,
          })),
          reviewBelow,
        )
      : undefined;

  // Review: every disagreement with the gold, and every answer under the threshold, in sheet order.
  const humanOf = new Map(compared.map(({ row, human }) => [row.row, human]));
  const disagrees = (row: QualityRow) => {
    const human = humanOf.get(row.row);
    return human !== undefined && !sameLabels(human, row.model);
  };
  const unsure = (row: QualityRow) => typeof row.confidence === 'number' && row.confidence < reviewBelow;
  const listed = input.rows.filter((r) => disagrees(r) || unsure(r));
  // Without a gold column, an empty Review sheet would say nothing: there is none.
  const review =
    goldHeader !== undefined || listed.length > 0
      ? reviewRows(listed, humanOf, {
          gold: goldHeader !== undefined,
          withConfidence,
          reviewBelow,
          disagrees,
          unsure,
          models: input.models,
        })
      : undefined;

  if (!figures || goldHeader === undefined) {
    return { summary: undefined, quality: undefined, review, unknownGold };
  }
  const summary: QualitySummary = {
    goldHeader,
    rows: figures.rows,
    exactAgreement: figures.exactAgreement,
    kappa: figures.kappa,
    alpha: figures.alpha,
    microF1: figures.microF1,
    macroF1: figures.macroF1,
    unknownGoldLabels: unknownGold.length,
    reviewRows: listed.length,
    ...(byConfidence ? { byConfidence } : {}),
    ...(beforeReview ? { beforeReview } : {}),
    ...(exampleRows > 0 ? { exampleRows } : {}),
    notCompared: notCompared(input.notCoded ?? NO_GOLD_LEFT_OUT, noLabel),
  };
  return {
    summary,
    quality: qualitySheet(summary, figures, confusion, byConfidence, unknownGold, multi, input.models),
    review,
    unknownGold,
  };
}

function beforeReviewRows(b: FirstModelFigures, reviewModel: string): ReportRow[] {
  return [
    [],
    [
      `Before the review: ${b.model}'s labels alone (${b.recoded} of the rows compared coded again by ${reviewModel})`,
      'Value',
    ],
    ['Exact agreement, first model', b.exactAgreement],
    ["Cohen's kappa, first model", b.kappa],
    ["Krippendorff's alpha, first model", b.alpha],
    ['Micro F1, first model', b.microF1],
    ['Macro F1, first model', b.macroF1],
  ];
}

function notCompared(notCoded: NotCodedGold, noLabel: number): NotCompared {
  const { invalid, empty, alreadyCoded, uncoded } = notCoded;
  return {
    rows: invalid + empty + alreadyCoded + uncoded + noLabel,
    invalid,
    empty,
    alreadyCoded,
    uncoded,
    noLabel,
  };
}

/** `4 invalid answers (N/A, -, ?), 2 empty answers, …`: the reasons present, for the sheet and the CLI. */
export function notComparedReasons(n: NotCompared): string {
  const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;
  return [
    n.invalid > 0 ? plural(n.invalid, 'invalid answer (N/A, -, ?)', 'invalid answers (N/A, -, ?)') : '',
    n.empty > 0 ? plural(n.empty, 'empty answer', 'empty answers') : '',
    n.alreadyCoded > 0 ? `${n.alreadyCoded} already coded in the file` : '',
    n.uncoded > 0 ? `${n.uncoded} not coded (the job stopped first)` : '',
    n.noLabel > 0 ? plural(n.noLabel, 'gold cell with no label', 'gold cells with no label') : '',
  ]
    .filter(Boolean)
    .join(', ');
}

function sameLabels(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a.map(categoryKey));
  const right = new Set(b.map(categoryKey));
  return left.size === right.size && [...left].every((l) => right.has(l));
}

function qualitySheet(
  summary: QualitySummary,
  figures: AgreementFigures,
  confusion: ConfusionMatrix | undefined,
  byConfidence: ConfidenceSplit | undefined,
  unknownGold: ReadonlyArray<{ row: number; labels: readonly string[] }>,
  multi: boolean,
  models: QualityInput['models'],
): ReportRow[] {
  const values: Record<(typeof QUALITY_FIGURES)[number], ReportRow[1]> = {
    'Rows compared': figures.rows,
    'Exact agreement': figures.exactAgreement,
    "Cohen's kappa": figures.kappa,
    "Krippendorff's alpha": figures.alpha,
    'Micro F1': figures.microF1,
    'Macro F1': figures.macroF1,
  };
  const rows: ReportRow[] = [
    [`Agreement with "${summary.goldHeader}"`, 'Value'],
    ...QUALITY_FIGURES.map((name): ReportRow => [name, values[name]]),
    [],
    ...(summary.exampleRows
      ? [['Rows used as examples (left out of the figures)', summary.exampleRows] as ReportRow]
      : []),
    ...(summary.notCompared
      ? [
          [
            'Human-coded rows not compared',
            summary.notCompared.rows,
            ...(summary.notCompared.rows > 0 ? [notComparedReasons(summary.notCompared)] : []),
          ] as ReportRow,
        ]
      : []),
    ...(summary.beforeReview ? beforeReviewRows(summary.beforeReview, models?.review ?? '') : []),
    [],
    [
      multi
        ? 'Exact agreement compares whole sets of codes; κ and α are those of each category as present/absent, averaged over the categories either side used.'
        : 'κ and α treat the categories (the fallback included) as nominal values.',
    ],
    [],
    ['Category', 'Support', 'Precision', 'Recall', 'F1', 'Kappa'],
    ...figures.perCategory.map((c): ReportRow => [c.label, c.support, c.precision, c.recall, c.f1, c.kappa]),
  ];
  if (confusion) {
    rows.push([], ['Human ↓ / model →', ...confusion.labels]);
    confusion.labels.forEach((label, h) => rows.push([label, ...(confusion.matrix[h] ?? [])]));
  }
  if (byConfidence) {
    const t = byConfidence.threshold;
    rows.push(
      [],
      [summary.beforeReview ? "First model's confidence" : 'Model confidence', 'Rows', 'Exact agreement'],
      [`≥ ${t}`, byConfidence.atOrAbove.rows, byConfidence.atOrAbove.exactAgreement],
      [`< ${t}`, byConfidence.below.rows, byConfidence.below.exactAgreement],
      ['None', byConfidence.withoutConfidence.rows, byConfidence.withoutConfidence.exactAgreement],
    );
    if (summary.beforeReview) {
      rows.push([
        `Agreement of the first model's labels, whose confidence it is: rows under ${t} were coded again by ${models?.review ?? 'the review model'}, and the figures above are of its labels.`,
      ]);
    }
  }
  if (unknownGold.length > 0) {
    rows.push([], ['Row', 'Human labels the codeframe does not have (compared as they are)']);
    for (const u of unknownGold) rows.push([u.row, u.labels.join(LABEL_SEPARATOR)]);
  }
  return rows;
}

function reviewRows(
  listed: readonly QualityRow[],
  humanOf: ReadonlyMap<number, readonly string[]>,
  how: {
    readonly gold: boolean;
    readonly withConfidence: boolean;
    readonly reviewBelow: number;
    readonly disagrees: (row: QualityRow) => boolean;
    readonly unsure: (row: QualityRow) => boolean;
    readonly models: QualityInput['models'];
  },
): ReportRow[] {
  const { gold, withConfidence, reviewBelow, disagrees, unsure, models } = how;
  const header: ReportRow = [
    'Row',
    'Answer',
    ...(gold ? ['Human'] : []),
    'Model',
    ...(models ? ['Coded by', "First model's label"] : []),
    ...(withConfidence ? [models ? "First model's confidence" : 'Confidence'] : []),
    'Why listed',
  ];
  return [
    header,
    ...listed.map((r): ReportRow => {
      const why = [
        ...(disagrees(r) ? ['human and model disagree'] : []),
        ...(unsure(r) ? [`confidence under ${reviewBelow}`] : []),
      ].join('; ');
      return [
        r.row,
        r.answer,
        ...(gold ? [(humanOf.get(r.row) ?? []).join(LABEL_SEPARATOR)] : []),
        r.model.join(LABEL_SEPARATOR),
        ...(models
          ? [r.first ? models.review : models.first, (r.first ?? r.model).join(LABEL_SEPARATOR)]
          : []),
        ...(withConfidence ? [r.confidence ?? null] : []),
        why,
      ];
    }),
  ];
}

/**
 * The line the CLI prints under the agreement line when rows with a gold cell were left out:
 * `Not compared: 11 human-coded rows (4 invalid answers (N/A, -, ?), 7 empty answers)`. Undefined when none.
 */
export function notComparedLine(s: QualitySummary): string | undefined {
  const n = s.notCompared;
  if (!n || n.rows === 0) return undefined;
  return `Not compared: ${n.rows} human-coded row${n.rows === 1 ? '' : 's'} (${notComparedReasons(n)})`;
}

/** `Agreement with "E2 coded by hand" on 312 rows: 91.3 %, κ 0.89, α 0.89, macro F1 0.88`. */
export function agreementLine(s: QualitySummary): string {
  const two = (x: number | null) => (x === null ? '–' : x.toFixed(2));
  const pct = s.exactAgreement === null ? '–' : `${(s.exactAgreement * 100).toFixed(1)} %`;
  return (
    `Agreement with "${s.goldHeader}" on ${s.rows} rows: ${pct}, κ ${two(s.kappa)}, α ${two(s.alpha)}, ` +
    `macro F1 ${two(s.macroF1)}`
  );
}
