/**
 * The second opinion (REVIEW_MODEL) and examples from the human coding, on a real Temporal server, through
 * the real openai client against the simulator, whose first model is wrong on a known share of answers (and
 * unsure of exactly those) while the review model is right. Every figure is computed here from the output's
 * own rows and the simulator's request log.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { StoredReviewBatch, StoredReviewResult } from '../../activities/stored.js';
import { reviewBatchFile, reviewPlanFile, reviewResultFile } from '../../activities/stored.js';
import type { Category } from '../../domain/categories.js';
import { formatItems } from '../../domain/prompt.js';
import type { ReviewPlan } from '../../domain/review.js';
import type { Harness } from '../helpers/harness.js';
import { createHarness, testOptions, workerEnv } from '../helpers/harness.js';
import type { WorkerProcess } from '../helpers/processes.js';
import { startWorkerProcess, waitFor } from '../helpers/processes.js';
import {
  CATEGORIES,
  expected,
  expectEveryRowCoded,
  makeAnswers,
  readOutput,
  writeGoldSurvey,
} from '../helpers/survey.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';

let h: Harness;
const processes: WorkerProcess[] = [];

beforeAll(async () => {
  h = await createHarness({ latency: { meanMs: 2, jitterMs: 1 } });
});
afterAll(async () => {
  for (const p of processes) await p.kill('SIGKILL');
  await h?.close();
});

const REVIEW_MODEL = 'gpt-4.1';
const WRONG_RATE = 0.25;
const GOLD_HEADER = 'E2 coded by hand';
/** A gold label no codeframe has: never sent to the model. */
const STRANGE = 'Prise ZQX';

interface Sent {
  readonly model: string;
  readonly system: string;
  readonly user: string;
}

function sentRequests(): Sent[] {
  return h.sim.requestBodies().map((body) => {
    const parsed = JSON.parse(body) as { model: string; messages: Array<{ role: string; content: string }> };
    const content = (role: string) => parsed.messages.find((m) => m.role === role)?.content ?? '';
    return { model: parsed.model, system: content('system'), user: content('user') };
  });
}

/** The answers of a request's user message: one a line, `id<TAB>text`. */
function answersOf(user: string): string[] {
  return user.split('\n').map((line) => line.slice(line.indexOf('\t') + 1));
}

/** Answers are the same answer when they differ only in case and spacing (as the job de-duplicates). */
const keyOf = (text: string) => text.trim().replace(/\s+/g, ' ').toLowerCase();

function sheetOf(workbook: ExcelJS.Workbook, name: string): ExcelJS.Worksheet {
  const sheet = workbook.getWorksheet(name);
  if (!sheet) throw new Error(`no ${name} sheet`);
  return sheet;
}

/** The value beside `name` in the first column of a two-column table. */
function valueOf(sheet: ExcelJS.Worksheet, name: string): ExcelJS.CellValue {
  let value: ExcelJS.CellValue = undefined;
  sheet.eachRow((row) => {
    if (row.getCell(1).text === name) value = row.getCell(2).value;
  });
  expect(value, `${sheet.name}: ${name}`).toBeDefined();
  return value;
}

/** The column headed `header` on row `row`, as a number (1-based). */
function columnOf(sheet: ExcelJS.Worksheet, header: string, row = 1): number {
  let column = 0;
  sheet.getRow(row).eachCell((cell, c) => {
    if (cell.text === header) column = c;
  });
  expect(column, `column ${header}`).toBeGreaterThan(0);
  return column;
}

async function runGoldJob(
  name: string,
  answers: ReadonlyArray<string | null>,
  gold: ReadonlyArray<string | null>,
  options: ReturnType<typeof testOptions>,
  categories: readonly Category[] = CATEGORIES,
) {
  const file = path.join(h.dataDir, `${name}.xlsx`);
  await writeGoldSurvey(file, answers, gold, GOLD_HEADER);
  const workers = await h.startWorkers({ slots: options.maxWorkers });
  try {
    const jobs = h.jobs(workers.taskQueue);
    const started = await jobs.create({
      fileName: `${name}.xlsx`,
      source: { path: file },
      column: 'E2',
      goldColumn: GOLD_HEADER,
      categories,
      options,
      idFrom: 'random',
    });
    const result = await started.handle.result();
    const description = await jobs.describe(started.jobId);
    const output = await readOutput(h.store.file(started.jobId, result.output.xlsx));
    return { result, description, output, sent: sentRequests(), jobId: started.jobId };
  } finally {
    await workers.stop();
  }
}

describe('a second opinion from a review model', () => {
  it('codes again exactly the answers under the threshold, once each, and fixes the wrong ones', async () => {
    const answers = makeAnswers(300, { duplicates: 0.1 });
    const gold = answers.map((a) => expected(a));
    h.sim.resetStats();
    h.sim.configure({ wrongRate: WRONG_RATE, modelWrongRates: { [REVIEW_MODEL]: 0 }, keepRequests: true });
    try {
      const { output, description, sent } = await runGoldJob(
        'review',
        answers,
        gold,
        testOptions({ reviewModel: REVIEW_MODEL }),
      );
      const data = sheetOf(output, 'Data');
      const confidenceColumn = columnOf(data, 'E2 confidence');
      const unsureRows: number[] = [];
      const unsureAnswers = new Set<string>();
      // A row the review model coded again has its confidence column blank (that probability was the first
      // model's, for a label the row no longer has); every other row has one, at or above the threshold.
      for (let row = 2; row < 2 + answers.length; row += 1) {
        const confidence = data.getCell(row, confidenceColumn).value;
        if (confidence === null || confidence === undefined || confidence === '') {
          unsureRows.push(row);
          unsureAnswers.add(keyOf(data.getCell(row, 5).text));
        } else {
          expect(typeof confidence, `row ${row} has a confidence`).toBe('number');
          expect(confidence as number).toBeGreaterThanOrEqual(0.7);
        }
      }
      // The first model was unsure of a good share of the answers.
      expect(unsureAnswers.size).toBeGreaterThan(answers.length * 0.1);

      // After the review every row agrees with the human coding, computed from the output's own columns.
      const disagreeing = answers.filter(
        (_, i) => data.getCell(2 + i, 8).text !== data.getCell(2 + i, 7).text,
      );
      expect(disagreeing).toEqual([]);
      const quality = sheetOf(output, 'Quality');
      expect(Number(valueOf(quality, 'Exact agreement'))).toBe(1);
      expect(description.quality?.exactAgreement).toBe(1);
      // The confidence split and the first pass's figures are the first model's: wrong on every unsure row.
      expect(description.quality?.byConfidence).toMatchObject({
        atOrAbove: { rows: answers.length - unsureRows.length, exactAgreement: 1 },
        below: { rows: unsureRows.length, exactAgreement: 0 },
      });
      expect(valueOf(quality, '< 0.7')).toBe(unsureRows.length);
      const firstPass = 1 - unsureRows.length / answers.length;
      expect(description.quality?.beforeReview).toMatchObject({ recoded: unsureRows.length });
      expect(description.quality?.beforeReview?.exactAgreement).toBeCloseTo(firstPass, 12);
      expect(Number(valueOf(quality, 'Exact agreement, first model'))).toBeCloseTo(firstPass, 12);

      // The Review sheet lists the unsure rows, coded by the review model, with the first model's (wrong) label.
      const review = sheetOf(output, 'Review');
      const [codedBy, first, model, human, firstConfidence] = [
        'Coded by',
        "First model's label",
        'Model',
        'Human',
        "First model's confidence",
      ].map((name) => columnOf(review, name)) as [number, number, number, number, number];
      const listed: number[] = [];
      review.eachRow((row, n) => {
        if (n === 1) return;
        listed.push(Number(row.getCell(1).value));
        expect(row.getCell(codedBy).text).toBe(REVIEW_MODEL);
        expect(row.getCell(model).text).toBe(row.getCell(human).text);
        expect(row.getCell(first).text).not.toBe(row.getCell(human).text);
        expect(Number(row.getCell(firstConfidence).value)).toBeLessThan(0.7);
      });
      expect(listed).toEqual(unsureRows);

      // Each unsure answer went to the review model exactly once, and nothing else did.
      const reviewRequests = sent.filter((s) => s.model === REVIEW_MODEL);
      const reviewed = reviewRequests.flatMap((s) => answersOf(s.user).map(keyOf));
      expect(reviewed.toSorted()).toEqual([...unsureAnswers].toSorted());

      // The Run sheet counts them, their requests and their tokens.
      const run = sheetOf(output, 'Run');
      expect(valueOf(run, 'Review model (second opinion)')).toBe(REVIEW_MODEL);
      expect(valueOf(run, 'Confidence') as string).toMatch(/blank there for the rows gpt-4\.1 coded again/);
      expect(valueOf(run, 'Answers under 0.7 sent to the review model')).toBe(unsureAnswers.size);
      expect(valueOf(run, 'Answers the review model coded (its label kept)')).toBe(unsureAnswers.size);
      expect(valueOf(run, 'Answers whose label the review changed')).toBe(unsureAnswers.size);
      expect(valueOf(run, 'Review API calls')).toBe(reviewRequests.length);
      expect(valueOf(run, 'Review API calls')).toBe(Math.ceil(unsureAnswers.size / 10));
      expect(Number(valueOf(run, 'Review prompt tokens'))).toBeGreaterThan(0);
      expect(Number(valueOf(run, 'Review completion tokens'))).toBeGreaterThan(0);
    } finally {
      h.sim.configure({ wrongRate: 0, modelWrongRates: {}, keepRequests: false });
    }
  });

  it('a worker killed mid-review: no stored review is asked again, every row coded once and right', async () => {
    const concurrency = 2;
    const taskQueue = uniqueTaskQueue('review-crash');
    const env = workerEnv(h, taskQueue, concurrency);
    const answers = makeAnswers(200);
    h.sim.resetStats();
    h.sim.configure({
      wrongRate: WRONG_RATE,
      modelWrongRates: { [REVIEW_MODEL]: 0 },
      keepRequests: true,
      latency: { meanMs: 250, jitterMs: 50 },
    });
    try {
      const first = startWorkerProcess(env);
      processes.push(first);
      const { started, survey } = await h.startSurvey(
        taskQueue,
        'review-crash.xlsx',
        answers,
        testOptions({
          reviewModel: REVIEW_MODEL,
          batchSize: 4,
          maxWorkers: concurrency,
          retry: {
            maximumAttempts: 5,
            initialIntervalMs: 100,
            maximumIntervalMs: 1_000,
            heartbeatTimeoutMs: 3_000,
          },
        }),
      );
      const { jobId } = started;
      const resultsDir = path.dirname(reviewResultFile(h.store, jobId, 0));
      const stored = async () => (await fs.readdir(resultsDir).catch(() => [])).length;
      await waitFor(async () => ((await stored()) >= 2 ? true : undefined), 120_000, 'two reviews stored');
      expect(await first.kill('SIGKILL')).toBe('SIGKILL');
      const plan = JSON.parse(await fs.readFile(reviewPlanFile(h.store, jobId), 'utf8')) as ReviewPlan;
      expect(await stored(), 'killed before the review ended').toBeLessThan(plan.batches);

      const second = startWorkerProcess(env);
      processes.push(second);
      const result = await started.handle.result();
      await second.kill('SIGTERM');

      // Every row once, each with the right label: the review fixed every answer the first model got wrong.
      expectEveryRowCoded(await readOutput(h.store.file(jobId, result.output.xlsx)), answers, survey);

      // Each review request was sent at most once per attempt its stored result records, at least once.
      const reviewRequests = sentRequests().filter((s) => s.model === REVIEW_MODEL);
      let matched = 0;
      let resent = 0;
      for (let i = 0; i < plan.batches; i += 1) {
        const batch = JSON.parse(
          await fs.readFile(reviewBatchFile(h.store, jobId, i), 'utf8'),
        ) as StoredReviewBatch;
        const stored = JSON.parse(
          await fs.readFile(reviewResultFile(h.store, jobId, i), 'utf8'),
        ) as StoredReviewResult;
        const sends = reviewRequests.filter((s) => s.user === formatItems(batch.items)).length;
        expect(sends, `review ${i}`).toBeGreaterThanOrEqual(1);
        expect(sends, `review ${i}`).toBeLessThanOrEqual(stored.attempt);
        matched += sends;
        if (sends > 1) resent += 1;
      }
      expect(matched).toBe(reviewRequests.length);
      // Only requests in flight when the worker died can have gone twice.
      expect(resent).toBeLessThanOrEqual(concurrency);
      expect(plan.answers).toBe(new Set(reviewRequests.flatMap((s) => answersOf(s.user)).map(keyOf)).size);
    } finally {
      h.sim.configure({
        wrongRate: 0,
        modelWrongRates: {},
        keepRequests: false,
        latency: { meanMs: 2, jitterMs: 1 },
      });
    }
  }, 240_000);
});

describe('a second opinion across continue-as-new', () => {
  it('runs of a few requests each: the review goes on from where the last run stopped', async () => {
    const answers = makeAnswers(150);
    const perRun = 3;
    h.sim.resetStats();
    h.sim.configure({ wrongRate: WRONG_RATE, modelWrongRates: { [REVIEW_MODEL]: 0 }, keepRequests: true });
    const workers = await h.startWorkers({ slots: 2 });
    try {
      const { started, survey } = await h.startSurvey(
        workers.taskQueue,
        'review-runs.xlsx',
        answers,
        testOptions({ reviewModel: REVIEW_MODEL, batchSize: 5, maxWorkers: 2 }),
        { batchesPerRun: perRun },
      );
      const result = await started.handle.result();
      expectEveryRowCoded(await readOutput(h.store.file(started.jobId, result.output.xlsx)), answers, survey);
      const plan = JSON.parse(
        await fs.readFile(reviewPlanFile(h.store, started.jobId), 'utf8'),
      ) as ReviewPlan;
      expect(plan.batches).toBeGreaterThan(perRun);
      // Each review request went once: no run asked again what an earlier run had stored.
      const reviewRequests = sentRequests().filter((s) => s.model === REVIEW_MODEL);
      expect(reviewRequests).toHaveLength(plan.batches);
      // The review alone needed several runs.
      const runs = await waitFor(
        async () => {
          let n = 0;
          for await (const _ of h.env.client.workflow.list({ query: `WorkflowId = '${started.jobId}'` }))
            n += 1;
          const enough =
            Math.ceil(result.progress.batches.total / perRun) + Math.ceil(plan.batches / perRun) - 1;
          return n >= enough ? n : undefined;
        },
        30_000,
        'every run listed',
      );
      expect(runs).toBeGreaterThan(1);
    } finally {
      h.sim.configure({ wrongRate: 0, modelWrongRates: {}, keepRequests: false });
      await workers.stop();
    }
  });
});

describe('examples from the human coding', () => {
  it('puts up to N hand-coded answers per category in the instructions, and leaves their rows out of the figures', async () => {
    const PER_CATEGORY = 2;
    const answers = makeAnswers(240, { duplicates: 0.15 });
    const names = [...CATEGORIES.map((c) => c.name), 'Other'];
    // Every third row uncoded; every seventh coded differently from the rule (people and models disagree).
    const gold = answers.map((a, i) => {
      if (i % 3 === 0) return null;
      const label = expected(a);
      return i % 7 === 0 ? (names[(names.indexOf(label) + 1) % names.length] ?? label) : label;
    });
    const strangeAt = 4;
    gold[strangeAt] = STRANGE;

    // The examples as the option promises them: sheet order, up to N per category, one per answer.
    const firstText = new Map<string, string>();
    for (const a of answers) if (a !== null && !firstText.has(keyOf(a))) firstText.set(keyOf(a), a.trim());
    const taken = new Map<string, number>();
    const examples: Array<[string, string]> = [];
    const exampleKeys = new Set<string>();
    answers.forEach((a, i) => {
      const label = gold[i];
      if (a === null || label === null || label === undefined || label === STRANGE) return;
      if (exampleKeys.has(keyOf(a)) || (taken.get(label) ?? 0) >= PER_CATEGORY) return;
      taken.set(label, (taken.get(label) ?? 0) + 1);
      exampleKeys.add(keyOf(a));
      examples.push([firstText.get(keyOf(a)) ?? '', label]);
    });
    expect(examples.length).toBeGreaterThan(names.length);

    h.sim.resetStats();
    h.sim.configure({ keepRequests: true });
    try {
      const { output, description, sent } = await runGoldJob(
        'examples',
        answers,
        gold,
        testOptions({ examplesFromGold: PER_CATEGORY }),
      );
      expect(sent.length).toBeGreaterThan(0);
      for (const s of sent) {
        // The same instructions in every request (the cached prefix), holding exactly the chosen examples.
        expect(s.system).toBe(sent[0]?.system);
        const lines = s.system.split('\n');
        const from = lines.findIndex((l) => l.startsWith("Answers the survey's own coders coded"));
        const to = lines.indexOf('Rules:');
        expect(from).toBeGreaterThan(0);
        const shown = lines.slice(from + 1, to).map((line): [string, string] => {
          const match = /^- ("(?:[^"\\]|\\.)*"): (\d+)$/.exec(line);
          expect(match, line).not.toBeNull();
          return [JSON.parse(match?.[1] ?? '""') as string, names[Number(match?.[2]) - 1] ?? ''];
        });
        expect(shown).toEqual(examples);
        // No other human coding reaches the model: not the column, not a label only it has, no other answer
        // beside its human label.
        expect(s.system + s.user).not.toContain(GOLD_HEADER);
        expect(s.system + s.user).not.toContain(STRANGE);
        for (const [key, text] of firstText) {
          if (!exampleKeys.has(key)) expect(s.system).not.toContain(JSON.stringify(text));
        }
      }

      // The Quality sheet leaves the example rows out, and says how many.
      const data = sheetOf(output, 'Data');
      const compared: Array<[string, string]> = [];
      let exampleRows = 0;
      answers.forEach((a, i) => {
        const human = data.getCell(2 + i, 7).text;
        if (a === null || human === '') return;
        if (exampleKeys.has(keyOf(a))) exampleRows += 1;
        else compared.push([keyOf(human), keyOf(data.getCell(2 + i, 8).text)]);
      });
      expect(exampleRows).toBeGreaterThan(examples.length - 1);
      const quality = sheetOf(output, 'Quality');
      expect(valueOf(quality, 'Rows used as examples (left out of the figures)')).toBe(exampleRows);
      expect(valueOf(quality, 'Rows compared')).toBe(compared.length);
      const agreement = compared.filter(([a, b]) => a === b).length / compared.length;
      expect(Number(valueOf(quality, 'Exact agreement'))).toBeCloseTo(agreement, 3);
      expect(description.quality?.exampleRows).toBe(exampleRows);
      expect(description.quality?.rows).toBe(compared.length);
    } finally {
      h.sim.configure({ keepRequests: false });
    }
  });
});
