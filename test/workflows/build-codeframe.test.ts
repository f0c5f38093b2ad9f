import fs from 'node:fs/promises';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredDraft, StoredThemes, MeasureSample } from '../../activities/codeframe-store.js';
import { describeError } from '../../cli/errors.js';
import { categoryCodes, parseCategories } from '../../domain/categories.js';
import { codeframeOf } from '../../domain/codeframe.js';
import { isFallbackLabel } from '../../domain/codeframe-themes.js';
import { readCodeframeFile } from '../../sheets/codeframe.js';
import { TABLE_HEADER } from '../../domain/codeframe-file.js';
import type { CodeframeProgress } from '../../domain/codeframe-job.js';
import { codeframeProgressQuery } from '../../workflows/definitions.js';
import { expectedLabel } from '../../simulator/index.js';
import {
  THEME_CATALOGUE,
  generateThemedAnswers,
  isSpuriousLabel,
  themeOfAnswer,
  themeOfLabel,
} from '../../simulator/themes.js';
import { codeframeService, storedFiles, surveyAnswers, trueShares } from '../helpers/codeframes.js';
import type { Harness } from '../helpers/harness.js';
import { createHarness, testOptions } from '../helpers/harness.js';
import { cellText, readOutput, writeSurvey } from '../helpers/survey.js';

let h: Harness;

beforeAll(async () => {
  h = await createHarness({ latency: { meanMs: 5, jitterMs: 3 } });
});
afterAll(async () => {
  await h?.close();
});

describe('buildCodeframeWorkflow on a real Temporal server', () => {
  it('drafts a codeframe from 2,500 answers: every theme of 2 % or more once, no spurious code, coverage as counted, and the file codes a job', async () => {
    const answers = surveyAnswers(generateThemedAnswers(2_500, 7));
    const file = path.join(h.dataDir, 'themes.xlsx');
    await writeSurvey(file, answers);
    // Every other extraction request makes up a one-off theme: min-share must fold them all.
    h.sim.configure({ themes: { spuriousRate: 0.5 } });
    h.sim.resetStats();
    const workers = await h.startWorkers();
    const service = codeframeService(h.env.client, h.store, workers.taskQueue);
    let result;
    let started;
    try {
      started = await service.create({
        fileName: 'themes.xlsx',
        source: { path: file },
        column: 'E2',
        // A cap below the unique answers: the answers read are a weighted sample.
        settings: { readCap: 1_000 },
        options: testOptions(),
        idFrom: 'random',
      });
      result = await started.handle.result();
    } finally {
      await workers.stop();
    }
    const id = started.codeframeId;
    const p = result.progress;
    expect(p.phase).toBe('done');
    expect(p.answers).toMatchObject({ unique: expect.any(Number) as number, chosen: 1_000, sampled: true });
    expect(p.answers.unique).toBeGreaterThan(1_000);
    expect(p.chunks.failed).toBe(0);

    // Recall: every theme of 2 % or more has a code; no two codes for one theme; none made up.
    const truth = trueShares(answers);
    const themeOf = (label: string) => themeOfLabel(label)?.key;
    const keys = result.codes.map((c) => themeOf(c.label));
    for (const t of THEME_CATALOGUE.filter((t) => (truth.get(t.key) ?? 0) >= 0.02))
      expect(keys, `${t.key} (${truth.get(t.key)})`).toContain(t.key);
    expect(
      keys.every((k) => k !== undefined),
      keys.join(', '),
    ).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);

    // The spurious themes were there, and min-share folded every one of them into Other.
    const extracted = [...(await storedFiles(h.store, id, 'themes')).values()].flatMap(
      (json) => (JSON.parse(json) as StoredThemes).themes,
    );
    const spurious = new Set(extracted.filter((t) => isSpuriousLabel(t.label)).map((t) => t.label));
    expect(spurious.size).toBeGreaterThan(0);
    for (const label of spurious) expect(result.folded.map((f) => f.label)).toContain(label);
    // The same theme came back under several names, and merging made one code of each.
    const names = new Set(extracted.filter((t) => themeOf(t.label) === 'price').map((t) => t.label));
    expect(names.size).toBeGreaterThan(1);

    // Coverage and shares equal an independent count: the simulator's coding rule over the rows drawn.
    const draft = JSON.parse(await fs.readFile(h.store.file(id, 'draft.json'), 'utf8')) as StoredDraft;
    const sample = JSON.parse(
      await fs.readFile(h.store.file(id, 'measure-sample.json'), 'utf8'),
    ) as MeasureSample;
    const categories = draft.codes.map((c) => ({ name: c.label, description: c.description }));
    const kept = new Set(result.codes.map((c) => c.label));
    let base = 0;
    let covered = 0;
    const byLabel = new Map<string, number>();
    for (const a of sample.answers) {
      const label = expectedLabel(a.text, categories);
      base += a.weight;
      byLabel.set(label, (byLabel.get(label) ?? 0) + a.weight);
      if (kept.has(label)) covered += a.weight;
    }
    expect(sample.rows).toBe(400);
    expect(result.base).toBe(base);
    expect(base).toBe(400);
    expect(result.covered).toBe(covered);
    expect(result.coverage).toBe(covered / base);
    for (const c of result.codes) expect(c.share, c.label).toBe((byLabel.get(c.label) ?? 0) / base);
    // And the estimates are near the truth (a sample of 400: within 6 points).
    for (const c of result.codes) {
      const key = themeOf(c.label);
      expect(Math.abs(c.share - (truth.get(key ?? '') ?? 0)), c.label).toBeLessThan(0.06);
    }

    // Cost: within the budget of calls, each request counted once by the simulator.
    const stats = h.sim.stats();
    expect(stats.byTask.extract).toBe(p.chunks.total);
    expect(p.calls.extract).toBe(p.chunks.total);
    expect(stats.byTask.merge).toBe(p.calls.merge);
    expect(stats.byTask.coding).toBe(p.calls.measure);
    expect(p.apiCalls).toBeLessThanOrEqual(60);
    expect(p.simulated).toBe(true);

    // The files: the text form classify reads, with nets, and the table.
    const text = await fs.readFile(await service.file(id, 'txt'), 'utf8');
    expect(text).toMatch(/^# DRAFT codeframe for "themes\.xlsx", column E2/);
    expect(text).toMatch(/^# SIMULATED/m);
    expect(text).toMatch(
      /^# Coverage: \d+\.\d % of answers fit a code\. Shares are estimates from a sample of 400 answers\.$/m,
    );
    expect(text).toMatch(/^\[Delivery\]$/m);
    const parsed = parseCategories(text, 'categories.txt');
    expect(parsed.map((c) => c.name)).toEqual([...result.codes.map((c) => c.label), 'Other']);
    // With their nets and their numbers, as the codeframe parser reads them; the table reads the same.
    expect(parsed.map((c) => c.net ?? '')).toEqual([...result.codes.map((c) => c.net ?? ''), '']);
    expect(categoryCodes(parsed)).toEqual([...result.codes.map((c) => c.code), 97]);
    const fromTable = await readCodeframeFile(await service.file(id, 'xlsx'), 'categories.xlsx');
    expect(codeframeOf(fromTable)).toEqual(codeframeOf(parsed));
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(await service.file(id, 'xlsx'));
    const table = workbook.worksheets[0];
    expect(table?.getRow(1).values).toEqual([undefined, ...TABLE_HEADER]);
    expect(table?.actualRowCount).toBe(1 + result.codes.length + 1);
    const report = await service.report(id);
    for (const c of report.codes) {
      expect(c.examples.length, c.label).toBeGreaterThan(0);
      for (const e of c.examples) expect(themeOfAnswer(e)?.key, e).toBe(themeOf(c.label));
    }

    // End to end: the generated file codes the same survey as a job.
    const coder = await h.startWorkers();
    try {
      const job = await h.jobs(coder.taskQueue).create({
        fileName: 'themes.xlsx',
        source: { path: file },
        column: 'E2',
        categories: parsed,
        options: testOptions(),
        idFrom: 'random',
      });
      const coded = await job.handle.result();
      expect(coded.stats.fallbackBatches).toBe(0);
      const sheet = (await readOutput(h.store.file(job.jobId, coded.output.xlsx))).getWorksheet('Data');
      if (!sheet) throw new Error('no Data sheet');
      let other = 0;
      answers.forEach((answer, i) => {
        const label = cellText(sheet, 3 + i, 'G');
        expect(label, answer).toBe(expectedLabel(answer, parsed));
        if (label === 'Other') other += 1;
      });
      // The whole column's coverage is what the sample estimated, within sampling error.
      expect(Math.abs(1 - other / answers.length - result.coverage)).toBeLessThan(0.05);
    } finally {
      await coder.stop();
    }
  }, 240_000);

  it('keeps to --max-codes, through intermediate merge rounds when one request may take few themes', async () => {
    const answers = surveyAnswers(generateThemedAnswers(600, 8));
    const file = path.join(h.dataDir, 'few-codes.xlsx');
    await writeSurvey(file, answers);
    // A model that, asked for few codes, lumps the rest into a catch-all even when told to leave them out.
    h.sim.configure({ themes: { spuriousRate: 0, catchAllRate: 1 } });
    const workers = await h.startWorkers();
    try {
      const started = await codeframeService(h.env.client, h.store, workers.taskQueue).create({
        fileName: 'few-codes.xlsx',
        source: { path: file },
        column: 'E2',
        settings: { maxCodes: 5, minShare: 0, maxThemesPerMerge: 20 },
        options: testOptions(),
        idFrom: 'random',
      });
      const result = await started.handle.result();
      expect(result.progress.merge.round).toBeGreaterThan(1);
      expect(result.progress.merge.calls).toBeGreaterThan(2);
      expect(result.codes.length).toBeLessThanOrEqual(5);
      expect(result.codes.length).toBeGreaterThanOrEqual(4);
      // No catch-all ("Miscellaneous 29 %" beside Other): each code is one theme, the rest left to Other.
      const keys = result.codes.map((c) => themeOfLabel(c.label)?.key);
      expect(
        keys.every((k) => k !== undefined),
        result.codes.map((c) => c.label).join(', '),
      ).toBe(true);
      expect(new Set(keys).size).toBe(keys.length);
      for (const c of result.codes) expect(isFallbackLabel(c.label), c.label).toBe(false);
      expect(result.overflow.length).toBeGreaterThan(0);
      for (const label of result.overflow) expect(themeOfLabel(label), label).toBeDefined();
      // A model that lumps the rest anyway: its catch-all goes to Other, and the four codes beside it
      // (the largest themes, ~46 % of the answers) are the coverage.
      expect(result.coverage).toBeGreaterThan(0.35);
    } finally {
      h.sim.configure({ themes: { catchAllRate: 0 } });
      await workers.stop();
    }
  }, 120_000);

  it('reads long answers within the token budget: the extraction requests stay within the bound', async () => {
    // ~1,070 characters an answer: the 2,000 of --read-cap took 72 extraction requests (81 calls in all).
    const filler =
      ' We went on a Sunday afternoon with the children and my mother, as we do most weekends, and walked ' +
      'around for a good while before we went home and talked it over at dinner with the neighbours.';
    const answers = generateThemedAnswers(3_000, 11).map(
      (a, i) => `${a.text}. Visit ${i + 1}.${filler.repeat(5)}`,
    );
    expect(themeOfAnswer(filler)).toBeUndefined();
    const mean = answers.reduce((sum, a) => sum + a.length, 0) / answers.length;
    expect(mean).toBeGreaterThan(1_000);
    const file = path.join(h.dataDir, 'long-answers.xlsx');
    await writeSurvey(file, answers);
    h.sim.configure({ themes: { spuriousRate: 0 } });
    const workers = await h.startWorkers();
    try {
      const started = await codeframeService(h.env.client, h.store, workers.taskQueue).create({
        fileName: 'long-answers.xlsx',
        source: { path: file },
        column: 'E2',
        options: testOptions(),
        idFrom: 'random',
      });
      const result = await started.handle.result();
      const p = result.progress;
      // The default budget, 200,000 tokens, fills at most ceil(200,000 / (8,000 − a chunk's ~1,500 fixed)).
      expect(p.answers.sampled).toBe(true);
      expect(p.answers.chosen).toBeLessThan(1_000);
      expect(p.calls.extract).toBe(p.chunks.total);
      expect(p.calls.extract).toBeLessThanOrEqual(32);
      expect(p.apiCalls).toBeLessThanOrEqual(60);
      expect(result.codes.length).toBeGreaterThanOrEqual(8);
    } finally {
      await workers.stop();
    }
  }, 180_000);

  it('fails at once, naming the column, when it holds no answer to read', async () => {
    const file = path.join(h.dataDir, 'empty.xlsx');
    await writeSurvey(file, ['n/a', '-', null, '#N/A']);
    h.sim.resetStats();
    const workers = await h.startWorkers();
    try {
      const started = await codeframeService(h.env.client, h.store, workers.taskQueue).create({
        fileName: 'empty.xlsx',
        source: { path: file },
        column: 'E2',
        options: testOptions(),
        idFrom: 'random',
      });
      const error = await started.handle.result().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect(describeError(error)).toBe(
        'Column "E2" of empty.xlsx has no answers to draft a codeframe from (4 rows: 1 empty, 3 placeholders such as "n/a", 0 already coded)',
      );
      expect(h.sim.stats().byTask.extract ?? 0).toBe(0);
    } finally {
      await workers.stop();
    }
  }, 60_000);

  it('answers its progress query while running, and ends cancelled on a cancel', async () => {
    const answers = surveyAnswers(generateThemedAnswers(1_200, 9));
    const file = path.join(h.dataDir, 'cancel.xlsx');
    await writeSurvey(file, answers);
    h.sim.configure({ latency: { meanMs: 400, jitterMs: 50 } });
    const workers = await h.startWorkers({ slots: 2 });
    try {
      const service = codeframeService(h.env.client, h.store, workers.taskQueue);
      const started = await service.create({
        fileName: 'cancel.xlsx',
        source: { path: file },
        column: 'E2',
        // Small chunks: several extraction requests, two at a time.
        settings: { chunkMaxAnswers: 100 },
        options: testOptions({ maxWorkers: 2 }),
        idFrom: 'random',
      });
      let seen: CodeframeProgress | undefined;
      for (;;) {
        seen = await service.progress(started.codeframeId).catch(() => undefined);
        if (seen && seen.chunks.done >= 1) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(seen.phase).toBe('extracting');
      expect(seen.chunks.total).toBeGreaterThan(seen.chunks.done);
      expect(seen.themes).toBeGreaterThan(0);
      expect(seen.apiCalls).toBeGreaterThan(0);
      await service.cancel(started.codeframeId);
      const error = await started.handle.result().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect((await started.handle.describe()).status.name).toBe('CANCELLED');
      expect((await started.handle.query(codeframeProgressQuery)).phase).toBe('cancelled');
    } finally {
      h.sim.configure({ latency: { meanMs: 5, jitterMs: 3 } });
      await workers.stop();
    }
  }, 120_000);
});
