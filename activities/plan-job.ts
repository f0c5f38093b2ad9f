/**
 * Reading a job's sheet and cutting its batches: what `prepareJob` stores and what the estimate prices, done
 * by the same code so that the estimate plans exactly the requests the job will send.
 */
import { randomInt } from 'node:crypto';
import type { Category } from '../domain/categories.js';
import { codeColumnHeaders, codeframeOf } from '../domain/codeframe.js';
import type { CostEstimate } from '../domain/cost.js';
import { billedPromptTokens, costEstimate } from '../domain/cost.js';
import type { JobSpec } from '../domain/job.js';
import type { BatchingChoice, ColumnarRowPlan, PlannedBatch, UniqueAnswer } from '../domain/plan.js';
import { RowPlanner, forEachAnswered, planBatches, promptId } from '../domain/plan.js';
import type { ChatMessage, CodingMode, PromptItem } from '../domain/prompt.js';
import {
  PROMPT_TOKENS_PER_ITEM,
  buildInstructions,
  buildLabelSchema,
  buildMessages,
  categoryNumbers,
  codingMode,
  encodeLabels,
  maxCompletionTokens,
} from '../domain/prompt.js';
import { priceFor } from '../domain/prices.js';
import { cleanForModel } from '../domain/text.js';
import type { ChosenExamples } from '../domain/examples.js';
import { chooseExamples } from '../domain/examples.js';
import type { AnswerColumn } from '../sheets/index.js';
import { readAnswerColumn } from '../sheets/index.js';
import type { TokenCounter } from './tokens.js';
import { tokenCounter } from './tokens.js';

/** What a plan needs of a job: its file on disk and the job's spec. */
export type PlanSource = Pick<
  JobSpec,
  'fileName' | 'format' | 'sheet' | 'column' | 'goldColumn' | 'question' | 'categories' | 'options'
> & { readonly path: string };

export interface SheetPlan {
  /** What the reader found, without the rows (a million objects are dropped once planned). */
  readonly column: Omit<AnswerColumn, 'rows'>;
  /** Every row's treatment, as columns. */
  readonly rowPlan: ColumnarRowPlan;
  /** Rows whose category cell was filled already, with its text. */
  readonly codedLabels: ReadonlyArray<readonly [number, string]>;
  /** The question as the model gets it (cleaned). */
  readonly question: string;
  readonly mode: CodingMode;
  /** The model's tokenizer, counting the shared instructions once. */
  readonly count: TokenCounter;
  readonly batches: readonly PlannedBatch[];
  /** Hand-coded answers shown in the instructions (`examplesFromGold`); absent when none are asked for. */
  readonly examples?: ChosenExamples;
}

/** Reads the sheet (streaming), sorts and de-duplicates its rows, and cuts the batches. */
export async function planSheet(source: PlanSource): Promise<SheetPlan> {
  const { options, categories } = source;
  const mode = codingMode(options);
  const codeframe = codeframeOf(categories);
  // Each row is planned as it is read: the sheet's rows (a million objects) are never all held.
  // A random hash seed: a file crafted so that its answers collide under a known seed plans as fast as any.
  const planner = new RowPlanner(randomInt(2 ** 30));
  const codedLabels: Array<[number, string]> = [];
  const column = await readAnswerColumn({
    path: source.path,
    displayName: source.fileName,
    format: source.format,
    ...(source.sheet !== undefined ? { sheet: source.sheet } : {}),
    column: source.column,
    ...(mode.multi ? { codeHeaders: (header: string) => codeColumnHeaders(header, codeframe) } : {}),
    ...(source.goldColumn !== undefined ? { goldColumn: source.goldColumn } : {}),
    onRow: (r) => {
      planner.add(r);
      if (r.category.trim() !== '') codedLabels.push([r.row, r.category.trim()]);
    },
  });
  const rowPlan = planner.finishColumns();
  // The model gets a cleaned copy of the question and answers (no control, bidi or zero-width
  // characters); the sheet, and so the coded workbook, keeps the text as it is.
  const question = cleanForModel(source.question ?? column.question);
  const examples = examplesOf(source, rowPlan, column.gold?.cells);
  const tokenize = await tokenCounter(options.model);
  const instructions = buildInstructions(question, categories, mode, examples?.examples);
  // Every request repeats the instructions: count them once.
  const instructionTokens = tokenize(instructions);
  const count = (text: string) => (text === instructions ? instructionTokens : tokenize(text));
  // The schema's fixed part (its ids are counted with each answer, PROMPT_TOKENS_PER_ITEM).
  const schema = buildLabelSchema(categories, [], mode);
  const fixedTokens = count(instructions) + count(JSON.stringify(schema)) + 16;
  const perItemCompletion =
    maxCompletionTokens(categories, 1, mode) - maxCompletionTokens(categories, 0, mode);
  const batching: BatchingChoice =
    options.batchSize === 'auto'
      ? {
          size: 'auto',
          auto: {
            tokenTarget: options.batchTokenTarget,
            fixedTokens,
            completionTokensPerItem: perItemCompletion,
            itemOverheadTokens: PROMPT_TOKENS_PER_ITEM,
            maxItems: 200,
            countTokens: count,
          },
        }
      : { size: options.batchSize };
  const batches = planBatches(rowPlan, batching);
  return { column, rowPlan, codedLabels, question, mode, count, batches, ...(examples ? { examples } : {}) };
}

/** The job's examples from its human coding (`examplesFromGold`), as sent; undefined when it asks for none. */
function examplesOf(
  source: PlanSource,
  rowPlan: ColumnarRowPlan,
  gold: ReadonlyArray<readonly [number, string]> | undefined,
): ChosenExamples | undefined {
  const perCategory = source.options.examplesFromGold ?? 0;
  if (perCategory <= 0 || !gold) return undefined;
  const answerOfRow = new Map<number, number>();
  forEachAnswered(rowPlan, (row, answer) => answerOfRow.set(row, answer));
  return chooseExamples({
    codeframe: codeframeOf(source.categories),
    multi: codingMode(source.options).multi,
    gold,
    answerOfRow,
    text: (answer) => cleanForModel(rowPlan.answers[answer]?.text ?? ''),
    perCategory,
  });
}

export interface BatchRequest {
  readonly items: readonly PromptItem[];
  readonly messages: readonly ChatMessage[];
  readonly maxTokens: number;
}

/** The request a batch sends: its answers under short ids, the messages, the output ceiling. */
export function batchRequest(
  plan: { readonly answers: readonly UniqueAnswer[] } & Pick<SheetPlan, 'question' | 'mode' | 'examples'>,
  categories: readonly Category[],
  batch: Pick<PlannedBatch, 'answerIds'>,
): BatchRequest {
  const items = batch.answerIds.map((id, position) => ({
    id: promptId(position),
    text: cleanForModel(plan.answers[id]?.text ?? ''),
  }));
  return {
    items,
    messages: buildMessages(plan.question, categories, items, plan.mode, plan.examples?.examples),
    maxTokens: maxCompletionTokens(categories, items.length, plan.mode),
  };
}

/** Codes an answer is assumed to get in multi-code mode, for the output estimate (the model decides). */
const ESTIMATED_CODES_PER_ANSWER = 2;

/**
 * A request's tokens as the API will bill them: the prompt (messages and schema) and the expected answer,
 * one category number an answer (the categories taken in turn, so their numbers' lengths average out).
 */
export function requestTokens(
  count: TokenCounter,
  categories: readonly Category[],
  mode: CodingMode,
  request: BatchRequest,
): { prompt: number; output: number } {
  const labels = categoryNumbers(categories);
  const codes = mode.multi ? Math.min(ESTIMATED_CODES_PER_ANSWER, mode.maxCodes) : 1;
  const answer = encodeLabels(
    request.items.map((item, i) => ({
      id: item.id,
      labels: Array.from({ length: codes }, (_, k) => labels[(i * codes + k) % labels.length] ?? ''),
    })),
    labels,
    mode,
  );
  const schema = buildLabelSchema(categories, request.items, mode).schema;
  return { prompt: billedPromptTokens(count, request.messages, schema), output: count(answer) };
}

/**
 * What the job would cost, without calling the model: the sheet planned as `prepareJob` plans it, each
 * batch's request built and counted as the API bills it.
 */
export async function estimateJob(source: PlanSource): Promise<CostEstimate> {
  const plan = await planSheet(source);
  const { answers, counts } = plan.rowPlan;
  let inputTokens = 0;
  let outputTokens = 0;
  for (const batch of plan.batches) {
    const request = batchRequest({ ...plan, answers }, source.categories, batch);
    const tokens = requestTokens(plan.count, source.categories, plan.mode, request);
    inputTokens += tokens.prompt;
    outputTokens += tokens.output;
  }
  const { model, prices } = source.options;
  return costEstimate(
    {
      model,
      requests: plan.batches.length,
      rows: counts.classify,
      answers: answers.length,
      inputTokens,
      outputTokens,
    },
    priceFor(model, prices),
  );
}
