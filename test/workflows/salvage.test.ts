import fs from 'node:fs/promises';
import path from 'node:path';
import type ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredResult } from '../../activities/stored.js';
import type { Category } from '../../domain/categories.js';
import type { Harness } from '../helpers/harness.js';
import { createHarness, testOptions } from '../helpers/harness.js';
import {
  NETTED_CATEGORIES,
  cellText,
  expected,
  expectedSet,
  makeAnswers,
  makeMultiAnswers,
  readOutput,
} from '../helpers/survey.js';

let h: Harness;

beforeAll(async () => {
  h = await createHarness({ latency: { meanMs: 5, jitterMs: 3 } });
});
afterAll(async () => {
  await h?.close();
});

async function runJob(
  name: string,
  answers: Array<string | null>,
  options = testOptions(),
  categories?: readonly Category[],
) {
  const workers = await h.startWorkers({ slots: options.maxWorkers, llmTimeoutMs: 1_000 });
  try {
    const { started, survey } = await h.startSurvey(
      workers.taskQueue,
      `${name}.xlsx`,
      answers,
      options,
      categories ? { categories } : {},
    );
    const result = await started.handle.result();
    const output = await readOutput(h.store.file(started.jobId, result.output.xlsx));
    return { jobId: started.jobId, result, output, survey };
  } finally {
    await workers.stop();
  }
}

function sheet(workbook: ExcelJS.Workbook, name: string): ExcelJS.Worksheet {
  const found = workbook.getWorksheet(name);
  if (!found) throw new Error(`no ${name} sheet`);
  return found;
}

/** The Run sheet's fallback table: each listed row with its reason. */
function fallbackTable(run: ExcelJS.Worksheet): Map<number, string> {
  const rows = new Map<number, string>();
  let inTable = false;
  run.eachRow((row) => {
    if (row.getCell(1).text === 'Fallback batch') inTable = true;
    else if (inTable && row.getCell(3).text) {
      for (const part of row.getCell(2).text.split(', ')) {
        const [from, to] = part.split('–').map(Number);
        for (let r = from ?? 0; r <= (to ?? from ?? 0); r += 1) rows.set(r, row.getCell(3).text);
      }
    }
  });
  return rows;
}

function runValue(run: ExcelJS.Worksheet, setting: string): unknown {
  let value: unknown;
  run.eachRow((row) => {
    if (row.getCell(1).text === setting) value = row.getCell(2).value;
  });
  return value;
}

/**
 * 1,000 answers, 1 % of them (10 distinct answers, each on three rows) left out by the model every time it
 * is asked, and one answer it always labels outside the list. With quick retries, as in the job.
 */
function spoiledSurvey() {
  const answers = makeAnswers(1_000);
  const skipped: number[] = [];
  for (let k = 0; k < 10; k += 1) {
    const i = 37 + k * 97;
    answers[i] = `SKIPME answer ${k} the model always leaves out`;
    // Two more rows with the same answer (another case and spacing): sent once, coded alike.
    answers[i + 1] = `  skipme ANSWER ${k} the model always leaves out `;
    answers[i + 2] = `SKIPME answer ${k} the model always leaves out`;
    skipped.push(i, i + 1, i + 2);
  }
  const mislabelled = 555;
  answers[mislabelled] = 'NUMBER 42, labelled off the list every time';
  return { answers, skipped, mislabelled };
}

describe('salvage: a model answer that fails validation the same way every time', () => {
  it('keeps every right label, codes only the bad answers "Other" with their reason, in a few extra calls', async () => {
    const { answers, skipped, mislabelled } = spoiledSurvey();
    h.sim.resetStats();
    h.sim.configure({
      faults: [
        { kind: 'missing_id', match: 'skipme' },
        { kind: 'bad_category', match: 'number 42' },
      ],
    });
    const started = performance.now();
    const { result, output, survey, jobId } = await runJob('skipped', answers).finally(() =>
      h.sim.configure({ faults: [] }),
    );
    const wallMs = performance.now() - started;
    const stats = h.sim.stats();

    const data = sheet(output, 'Data');
    const run = sheet(output, 'Run');
    const fallen = fallbackTable(run);
    const bad = new Set([...skipped, mislabelled]);
    answers.forEach((answer, i) => {
      const row = survey.rows[i] ?? 0;
      const label = cellText(data, row, 'G');
      if (bad.has(i)) {
        expect(label, `row ${row}`).toBe('Other');
        // The compact wire format answers with category numbers: an unlisted one is a number past the list.
        expect(fallen.get(row), `row ${row}`).toMatch(
          i === mislabelled
            ? /fell back alone: the model gave a category that is not in the list \(gave "\d+"\)/
            : /fell back alone: the model left this answer out/,
        );
      } else {
        expect(label, `row ${row}: ${answer}`).toBe(expected(answer));
        expect(fallen.has(row), `row ${row} listed as a fallback`).toBe(false);
      }
    });
    expect(fallen.size).toBe(bad.size);

    // Eleven bad answers in eleven batches: each asked alone twice (a slip once is not a fallback), no more.
    const batches = result.progress.batches.total;
    expect(result.stats.fallbackRows).toBe(bad.size);
    expect(result.stats.fallbackBatches).toBe(11);
    expect(runValue(run, 'Salvaged batches (answered partly wrong, bad answers asked again)')).toBe(11);
    expect(runValue(run, 'Salvage requests')).toBe(22);
    expect(runValue(run, 'Answers fallen back alone')).toBe(11);
    expect(stats.requests).toBe(batches + 22);
    expect(result.stats.apiCalls).toBe(batches + 22);

    // One result per batch, each holding every answer once: the valid labels and the fallen ones merged.
    const results = (await fs.readdir(path.join(h.store.dir(jobId), 'results'))).filter((f) =>
      f.endsWith('.json'),
    );
    expect(results).toHaveLength(batches);
    let salvaged = 0;
    for (let i = 0; i < batches; i += 1) {
      const stored = await h.store.readJsonIfExists<StoredResult>(h.store.resultFile(jobId, i));
      if (!stored || stored.fallback) throw new Error(`batch ${i}: no coded result`);
      if (!stored.salvaged) continue;
      salvaged += 1;
      const fellBack = new Set((stored.fallbacks ?? []).map((f) => f.position));
      stored.labels.forEach((labels, p) =>
        expect(labels.length === 0, `batch ${i} #${p}`).toBe(fellBack.has(p)),
      );
    }
    expect(salvaged).toBe(11);
    process.stderr.write(
      `salvage, 1,000 answers with 11 always wrong: ${batches} batches, ${stats.requests} requests ` +
        `(${stats.requests - batches} extra), ${result.stats.fallbackRows} rows "Other", ${(wallMs / 1000).toFixed(1)} s\n`,
    );
  }, 180_000);

  it('halves a batch whose answer is unusable as a whole every time, until the culprit is alone', async () => {
    const answers = makeAnswers(200);
    const culprit = 83;
    answers[culprit] = 'GARBLE this answer breaks the model’s JSON';
    h.sim.resetStats();
    h.sim.configure({ faults: [{ kind: 'malformed_json', match: 'garble' }] });
    const { result, output, survey } = await runJob('garbled', answers).finally(() =>
      h.sim.configure({ faults: [] }),
    );
    const data = sheet(output, 'Data');
    const fallen = fallbackTable(sheet(output, 'Run'));
    answers.forEach((answer, i) => {
      const row = survey.rows[i] ?? 0;
      expect(cellText(data, row, 'G'), `row ${row}`).toBe(i === culprit ? 'Other' : expected(answer));
    });
    expect([...fallen.keys()]).toEqual([survey.rows[culprit]]);
    expect(fallen.get(survey.rows[culprit] ?? 0)).toMatch(/fell back alone: the model’s answer was not JSON/);
    // Three whole attempts for each group that holds it (10, 5, 2, 1), one for each other half (5, 3, 1).
    const batches = result.progress.batches.total;
    expect(h.sim.stats().requests).toBe(batches - 1 + 4 * 3 + 3);
  });

  it('salvages a multi-code list the same way: the right lists kept, each bad answer asked alone and fallen back', async () => {
    const maxCodes = 3;
    const answers: Array<string | null> = makeMultiAnswers(300);
    const skipped = 41;
    const mislabelled = 202;
    answers[skipped] = `${answers[skipped] ?? ''} SKIPME`;
    answers[mislabelled] = `${answers[mislabelled] ?? ''} NUMBER 42`;
    h.sim.resetStats();
    h.sim.configure({
      faults: [
        { kind: 'missing_id', match: 'skipme' },
        { kind: 'bad_category', match: 'number 42' },
      ],
    });
    const { result, output, survey } = await runJob(
      'multi-salvage',
      answers,
      testOptions({ multi: true, maxCodes }),
      NETTED_CATEGORIES,
    ).finally(() => h.sim.configure({ faults: [] }));
    const data = sheet(output, 'Data');
    const fallen = fallbackTable(sheet(output, 'Run'));
    let sets = 0;
    answers.forEach((answer, i) => {
      const row = survey.rows[i] ?? 0;
      const cell = cellText(data, row, 'G');
      if (i === skipped || i === mislabelled) {
        expect(cell, `row ${row}`).toBe('Other');
        expect(fallen.get(row), `row ${row}`).toMatch(
          i === skipped
            ? /fell back alone: the model left this answer out/
            : /fell back alone: the model gave a category/,
        );
      } else {
        const want = expectedSet(answer ?? '', NETTED_CATEGORIES, maxCodes);
        expect(cell, `row ${row}: ${answer}`).toBe(want.join('; '));
        if (want.length > 1) sets += 1;
      }
    });
    expect(sets).toBeGreaterThan(50); // lists of several codes kept whole beside the bad answers
    expect(fallen.size).toBe(2);
    // Two batches answered partly wrong: two requests each for the bad answer asked alone, no more.
    const batches = result.progress.batches.total;
    expect(result.stats.fallbackRows).toBe(2);
    expect(h.sim.stats().requests).toBe(batches + 4);
  });
});

describe('salvage: an answer asked alone that fails', () => {
  it('is asked again after a one-off fault and coded right; one wrong every time falls back after two requests', async () => {
    const answers = makeAnswers(120);
    // Each answer is left out of its batch's first request, then meets its fault asked alone.
    const once = {
      slip: 5, // left out again once (a validation slip)
      outage: 25, // a 500 once
      garble: 45, // not JSON once
      stall: 65, // no answer before the client's timeout once
    } as const;
    const always = 85; // labelled off the list every time
    for (const [word, i] of Object.entries(once)) {
      answers[i] = `the price was too high LONE${word.toUpperCase()}`;
      expect(expected(answers[i] ?? ''), answers[i] ?? '').not.toBe('Other');
    }
    answers[always] = `${answers[always] ?? ''} LONEALWAYS`;
    h.sim.resetStats();
    h.sim.configure({
      faults: [
        { kind: 'missing_id', match: 'loneslip', count: 2 },
        { kind: 'missing_id', match: 'loneoutage', count: 1 },
        { kind: 'server_error', match: 'loneoutage', count: 1 },
        { kind: 'missing_id', match: 'lonegarble', count: 1 },
        { kind: 'malformed_json', match: 'lonegarble', count: 1 },
        { kind: 'missing_id', match: 'lonestall', count: 1 },
        { kind: 'hang', match: 'lonestall', count: 1, hangMs: 2_000 },
        { kind: 'bad_category', match: 'lonealways' },
      ],
    });
    const started = performance.now();
    const { result, output, survey } = await runJob('lone-once', answers).finally(() =>
      h.sim.configure({ faults: [] }),
    );
    const wallMs = performance.now() - started;
    const data = sheet(output, 'Data');
    const fallen = fallbackTable(sheet(output, 'Run'));
    answers.forEach((answer, i) => {
      const row = survey.rows[i] ?? 0;
      expect(cellText(data, row, 'G'), `row ${row}: ${answer}`).toBe(
        i === always ? 'Other' : expected(answer),
      );
    });
    expect([...fallen.keys()]).toEqual([survey.rows[always]]);
    expect(fallen.get(survey.rows[always] ?? 0)).toMatch(/fell back alone: the model gave a category/);
    // Each of the five: its batch's request, then two asked alone (the fault, then the answer); no more.
    const batches = result.progress.batches.total;
    expect(h.sim.stats().requests).toBe(batches + 5 * 2);
    expect(result.stats.fallbackRows).toBe(1);
    process.stderr.write(
      `salvage, lone answers: ${batches} batches, ${h.sim.stats().requests} requests, ${(wallMs / 1000).toFixed(1)} s\n`,
    );
  });
});
