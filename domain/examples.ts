/**
 * Examples from the human coding (`--examples-from-gold N`): up to N hand-coded answers per category, shown
 * to the model in the instructions. Chosen in sheet order, so the same file gives the same examples (and
 * the same cached prefix) every time.
 */
import type { Codeframe } from './codeframe.js';
import { LabelIndex } from './codeframe.js';
import type { PromptExample } from './prompt.js';

/** The most examples per category a job may ask for: each one lengthens every request. */
export const MAX_EXAMPLES_FROM_GOLD = 20;

export interface ExamplesInput {
  readonly codeframe: Codeframe;
  readonly multi: boolean;
  /** The gold column's non-empty cells, [sheet row, text], in sheet order. */
  readonly gold: ReadonlyArray<readonly [number, string]>;
  /** The unique answer of each row the model codes (rows not listed are not coded: no example). */
  readonly answerOfRow: ReadonlyMap<number, number>;
  /** An answer's text as the model is sent it. */
  readonly text: (answer: number) => string;
  readonly perCategory: number;
}

export interface ChosenExamples {
  readonly examples: PromptExample[];
  /** Their unique answers: every row with one of them is left out of the agreement. */
  readonly answers: number[];
}

/**
 * Goes down the gold cells in sheet order and takes a row when every one of its labels has fewer than
 * `perCategory` examples so far, so that no category gets more than `perCategory` (in multi-code mode a
 * row with a full category is passed over, even when its other labels still want examples). A cell naming
 * a label the codeframe lacks is never an example (the model could not answer with it), nor is an answer
 * already taken.
 */
export function chooseExamples(input: ExamplesInput): ChosenExamples {
  const index = new LabelIndex(input.codeframe);
  const taken = new Map<string, number>();
  const examples: PromptExample[] = [];
  const answers: number[] = [];
  const seen = new Set<number>();
  for (const [row, cell] of input.gold) {
    const answer = input.answerOfRow.get(row);
    if (answer === undefined || seen.has(answer)) continue;
    const { labels, unknown } = index.readCell(cell, input.multi);
    if (unknown.length > 0 || labels.length === 0) continue;
    if (!labels.every((l) => (taken.get(l) ?? 0) < input.perCategory)) continue;
    for (const l of labels) taken.set(l, (taken.get(l) ?? 0) + 1);
    seen.add(answer);
    answers.push(answer);
    examples.push({ text: input.text(answer), labels });
  }
  return { examples, answers };
}
