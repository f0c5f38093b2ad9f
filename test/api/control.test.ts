import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCategories } from '../../domain/categories.js';
import type { ResultSummary } from '../../domain/report.js';
import { SIMULATED_WARNING } from '../../domain/report.js';
import { expectedLabel } from '../../simulator/index.js';
import { failingWorkers } from '../helpers/failing-workers.js';
import { waitFor } from '../helpers/processes.js';
import { testOptions } from '../helpers/options.js';
import { codedCells, expectSummaryOfCells } from '../helpers/summary-check.js';
import { CATEGORIES } from '../helpers/survey.js';
import type { ApiHarness, JobView } from './helpers.js';
import {
  EXAMPLE_CATEGORIES,
  EXAMPLE_ROWS,
  createApiHarness,
  exampleJob,
  getJob,
  patch,
  post,
  sleep,
  smallSurvey,
  startJob,
  surveyJob,
  waitForJob,
  workbookOf,
} from './helpers.js';

let api: ApiHarness;

beforeAll(async () => {
  // Slow enough answers that a job is still running while the test talks to it.
  api = await createApiHarness({ sim: { latency: { meanMs: 100, jitterMs: 20 } }, slots: 8 });
});
afterAll(async () => {
  await api?.close();
});

/** `GET /jobs/:id/summary`, expected to answer 200. */
async function summaryOf(jobId: string): Promise<ResultSummary & { status: string }> {
  const response = await api.request(`/jobs/${jobId}/summary`);
  expect(response.status).toBe(200);
  return (await response.json()) as ResultSummary & { status: string };
}

async function patchJob(jobId: string, body: unknown): Promise<Response> {
  return api.request(`/jobs/${jobId}`, patch(body));
}

/** Waits until the job has coded a batch or two, so that it is well under way. */
async function underWay(jobId: string, batches = 2): Promise<JobView> {
  const job = await waitForJob(
    api,
    jobId,
    (j) => j.status !== 'RUNNING' || (j.progress?.batches.done ?? 0) >= batches,
  );
  expect(job.status).toBe('RUNNING');
  return job;
}

describe('PATCH /jobs/:id', () => {
  it('changes the concurrency of a running job', async () => {
    const { upload } = await smallSurvey(api, 200);
    const { jobId } = await startJob(api, surveyJob(upload, { concurrency: '2' }));
    const before = await underWay(jobId, 1);
    expect(before.progress?.window.max).toBe(2);
    api.h.sim.resetStats();
    const response = await patchJob(jobId, { concurrency: 6 });
    expect(response.status).toBe(200);
    expect(((await response.json()) as JobView).progress?.window).toEqual({ size: 6, max: 6 });
    const final = await waitForJob(api, jobId);
    expect(final.status).toBe('COMPLETED');
    expect(final.progress?.window.max).toBe(6);
    expect(api.h.sim.stats().maxInFlight).toBeGreaterThan(2);
  });

  it('pauses a job (rows stop advancing) and resumes it to the end', async () => {
    const { upload } = await smallSurvey(api, 200);
    const { jobId } = await startJob(api, surveyJob(upload));
    await underWay(jobId);
    const response = await patchJob(jobId, { paused: true });
    expect(response.status).toBe(200);
    expect(((await response.json()) as JobView).progress?.paused).toBe(true);

    // Batches already sent finish; no new one starts.
    const idle = await waitForJob(api, jobId, (j) => j.progress?.batches.inFlight === 0);
    expect(idle.status).toBe('RUNNING');
    expect(idle.progress?.paused).toBe(true);
    const done = idle.progress?.rows.done ?? -1;
    expect(done).toBeLessThan(200);
    await sleep(600);
    const later = await getJob(api, jobId);
    expect(later).toMatchObject({ status: 'RUNNING', progress: { paused: true, rows: { done } } });
    expect(later.progress?.batches.done).toBe(idle.progress?.batches.done);

    const resumed = await patchJob(jobId, { paused: false });
    expect(resumed.status).toBe(200);
    expect(((await resumed.json()) as JobView).progress?.paused).toBe(false);
    const final = await waitForJob(api, jobId);
    expect(final).toMatchObject({ status: 'COMPLETED', progress: { paused: false, rows: { done: 200 } } });
  });

  it('applies concurrency and pause together', async () => {
    const { upload } = await smallSurvey(api, 200);
    const { jobId } = await startJob(api, surveyJob(upload, { concurrency: '2' }));
    await underWay(jobId, 1);
    const response = await patchJob(jobId, { concurrency: 4, paused: true });
    expect(response.status).toBe(200);
    expect(((await response.json()) as JobView).progress).toMatchObject({
      paused: true,
      window: { max: 4 },
    });
    expect((await patchJob(jobId, { paused: false })).status).toBe(200);
    expect((await waitForJob(api, jobId)).status).toBe('COMPLETED');
    // A finished job cannot be changed.
    const late = await patchJob(jobId, { concurrency: 3 });
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ code: 'job_not_running', field: 'id', status: 409 });
  });
});

describe('POST /jobs/:id/cancel', () => {
  it('cancels a running job and keeps the rows already coded in a partial result', async () => {
    api.h.sim.configure({ latency: { meanMs: 200 } });
    try {
      const { jobId } = await startJob(api, exampleJob({ concurrency: '2' }));
      await underWay(jobId, 2);
      const response = await api.request(`/jobs/${jobId}/cancel`, { method: 'POST' });
      expect(response.status).toBe(202);
      expect(await response.json()).toMatchObject({ jobId, status: 'CANCELLING' });

      const final = await waitForJob(api, jobId);
      expect(final.status).toBe('CANCELLED');
      expect(final.closedAt).not.toBeNull();
      expect(final.progress?.phase).toBe('cancelled');
      expect(final.stats).not.toBeNull();

      const result = await api.request(`/jobs/${jobId}/result`);
      expect(result.status).toBe(200);
      expect(result.headers.get('content-disposition')).toContain('filename="customer-survey.partial.xlsx"');
      const workbook = await workbookOf(result);
      const sheet = workbook.getWorksheet('Responses');
      if (!sheet) throw new Error('no Responses sheet');
      const categories = parseCategories(EXAMPLE_CATEGORIES);
      let answered = 0;
      let coded = 0;
      for (let row = EXAMPLE_ROWS.first; row <= EXAMPLE_ROWS.last; row += 1) {
        const answer = sheet.getCell(`E${row}`).text;
        const label = sheet.getCell(`G${row}`).text;
        if (answer.trim() === '') {
          expect(label, `row ${row}`).toBe('');
          continue;
        }
        answered += 1;
        if (label === '') continue;
        coded += 1;
        // What was coded is coded right.
        expect(label, `row ${row}: ${answer}`).toBe(expectedLabel(answer, categories));
      }
      // A strict subset: more than the invalid rows (coded without a call), fewer than every answer.
      expect(coded).toBeGreaterThan(16);
      expect(coded).toBeLessThan(answered);
      const run: string[] = [];
      workbook.getWorksheet('Run')?.eachRow((row) => run.push(row.getCell(1).text));
      expect(run.some((line) => line.startsWith('PARTIAL RESULT'))).toBe(true);
      // The partial Summary counts what the cells hold, and GET /summary says the same.
      const summary = await summaryOf(jobId);
      expect(summary).toMatchObject({ status: 'CANCELLED', partial: true, ended: 'cancelled' });
      expect(summary.notices.at(-1)).toMatch(/^PARTIAL RESULT: the job was cancelled after \d+ of \d+ rows/);
      const cells = codedCells(sheet, { answer: 'E', category: 'G', ...EXAMPLE_ROWS });
      expect(cells.blank).toBe(answered - coded);
      expectSummaryOfCells(workbook, cells, summary);

      const csv = await api.request(`/jobs/${jobId}/result?format=csv`);
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-disposition')).toContain('filename="customer-survey.partial.csv"');

      // Nothing left to cancel or change.
      const again = await api.request(`/jobs/${jobId}/cancel`, { method: 'POST' });
      expect(again.status).toBe(409);
      expect(await again.json()).toMatchObject({ code: 'job_not_running', field: 'id' });
      expect((await patchJob(jobId, { paused: true })).status).toBe(409);
    } finally {
      api.h.sim.configure({ latency: { meanMs: 100, jitterMs: 20 } });
    }
  });

  it('cancels a paused job too', async () => {
    const { upload } = await smallSurvey(api, 200);
    const { jobId } = await startJob(api, surveyJob(upload));
    await underWay(jobId, 1);
    expect((await patchJob(jobId, { paused: true })).status).toBe(200);
    expect((await api.request(`/jobs/${jobId}/cancel`, { method: 'POST' })).status).toBe(202);
    const final = await waitForJob(api, jobId);
    expect(final.status).toBe('CANCELLED');
    expect((await api.request(`/jobs/${jobId}/result`)).status).toBe(200);
  });
});

describe('a failed job', () => {
  it('keeps the rows it coded before it failed: the partial file and its summary, then a retry codes the rest', async () => {
    const failing = await failingWorkers(api.h, 3);
    const { upload, rows } = await smallSurvey(api, 80, 'failing.xlsx');
    const where = { answer: 'E', category: 'G', first: rows[0] ?? 0, last: rows.at(-1) ?? 0 };
    const { jobId } = await api.h.jobs(failing.taskQueue).create({
      fileName: 'failing.xlsx',
      source: { bytes: upload.bytes },
      column: 'E2',
      categories: CATEGORIES,
      options: testOptions({ maxWorkers: 1 }),
      idFrom: 'random',
    });
    const failed = await waitForJob(api, jobId);
    await failing.stop();
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toContain('its fallback could not be recorded');

    const result = await api.request(`/jobs/${jobId}/result`);
    expect(result.status).toBe(200);
    expect(result.headers.get('content-disposition')).toContain('filename="failing.partial.xlsx"');
    const workbook = await workbookOf(result);
    const sheet = workbook.getWorksheet('Data');
    if (!sheet) throw new Error('no Data sheet');
    const cells = codedCells(sheet, where);
    // The three batches of ten coded before the failure, the rest left blank.
    expect([...cells.labels.values()].reduce((a, b) => a + b, 0) + cells.invalid).toBe(30);
    expect(cells.blank).toBe(50);
    const summary = await summaryOf(jobId);
    expect(summary).toMatchObject({ status: 'FAILED', partial: true, ended: 'failed' });
    expect(summary.notices).toEqual([
      SIMULATED_WARNING,
      'PARTIAL RESULT: the job failed after 30 of 80 rows to code; the other 50 are left blank and not counted here.',
    ]);
    expectSummaryOfCells(workbook, cells, summary);

    // Retried on workers that work: the rows coded before are kept, the rest coded.
    await api.h.startWorkers({ taskQueue: failing.taskQueue });
    expect((await api.request(`/jobs/${jobId}/retry`, { method: 'POST' })).status).toBe(202);
    expect(
      (await waitForJob(api, jobId, (j) => j.status !== 'RUNNING' && j.status !== 'FAILED')).status,
    ).toBe('COMPLETED');
    const whole = await summaryOf(jobId);
    expect(whole).toMatchObject({ partial: false, ended: 'completed', notices: [SIMULATED_WARNING] });
    expect(whole.rows.notReached).toBe(0);
    const done = await workbookOf(await api.request(`/jobs/${jobId}/result`));
    const all = codedCells(done.getWorksheet('Data') ?? sheet, where);
    expect(all.blank).toBe(0);
    expectSummaryOfCells(done, all, whole);
  });
});

describe('jobs a person can manage: a name, identical starts, resume, retry and delete', () => {
  it('names a job; an identical start answers the job already there (200), unless force is set', async () => {
    const { upload } = await smallSurvey(api, 40, 'wave-3.xlsx');
    const first = await startJob(api, surveyJob(upload, { name: 'Wave 3, likes', force: 'false' }));
    expect((await getJob(api, first.jobId)) as unknown).toMatchObject({ name: 'Wave 3, likes' });

    // The same file, column and settings: nothing starts, the job already there is answered.
    const again = await api.request('/jobs', post(surveyJob(upload, { name: 'another name' })));
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ jobId: first.jobId, duplicate: true });
    // A setting that shapes the labels makes it another job.
    const other = await startJob(api, surveyJob(upload, { temperature: '0.5', force: 'false' }));
    expect(other.jobId).not.toBe(first.jobId);

    await waitForJob(api, first.jobId);
    const done = await api.request('/jobs', post(surveyJob(upload)));
    expect(done.status).toBe(200);
    expect(await done.json()).toMatchObject({ jobId: first.jobId, status: 'COMPLETED', duplicate: true });
    const forced = await startJob(api, surveyJob(upload, { force: 'true' }));
    expect(forced.jobId).not.toBe(first.jobId);

    // The list is Temporal's visibility store, which may show a job started a moment ago a little later.
    const listed = await waitFor(
      async () => {
        const page = (await (await api.request('/jobs?pageSize=100')).json()) as {
          jobs: Array<{ jobId: string; name: string | null }>;
        };
        return page.jobs.some((j) => j.jobId === forced.jobId) ? page : undefined;
      },
      10_000,
      'the forced job in the list',
    );
    expect(listed.jobs.find((j) => j.jobId === first.jobId)?.name).toBe('Wave 3, likes');
    expect(listed.jobs.find((j) => j.jobId === forced.jobId)?.name).toBeNull();
    expect(JSON.stringify(listed)).not.toContain('sameKey');
    await Promise.all([waitForJob(api, other.jobId), waitForJob(api, forced.jobId)]);
  });

  it('resumes a cancelled job under its id: the rows coded before are kept, the rest coded, each once', async () => {
    const { upload, answers } = await smallSurvey(api, 200);
    const { jobId } = await startJob(api, surveyJob(upload, { concurrency: '2' }));
    await underWay(jobId, 2);
    expect((await api.request(`/jobs/${jobId}/cancel`, { method: 'POST' })).status).toBe(202);
    const cancelled = await waitForJob(api, jobId);
    expect(cancelled.status).toBe('CANCELLED');
    const before = cancelled.stats?.apiCalls ?? 0;
    const coded = cancelled.progress?.batches.done ?? 0;
    expect(coded).toBeLessThan(cancelled.progress?.batches.total ?? 0);

    const retry = await api.request(`/jobs/${jobId}/retry`, { method: 'POST' });
    expect(retry.status).toBe(202);
    expect(await retry.json()).toMatchObject({ jobId, status: 'RUNNING' });
    const final = await waitForJob(api, jobId);
    expect(final.status).toBe('COMPLETED');
    expect(final.progress?.rows.done).toBe(answers.length);
    // The batches coded before the cancel were not asked again.
    const total = final.progress?.batches.total ?? 0;
    expect(final.stats?.apiCalls).toBeLessThanOrEqual(total - coded + before);

    // A completed job has nothing to resume.
    const late = await api.request(`/jobs/${jobId}/retry`, { method: 'POST' });
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ code: 'job_state_conflict', field: 'id' });
  });

  it('deletes an ended job (its workflow and files), and refuses a running one', async () => {
    const { upload } = await smallSurvey(api, 200);
    const { jobId } = await startJob(api, surveyJob(upload));
    await underWay(jobId, 1);
    const running = await api.request(`/jobs/${jobId}`, { method: 'DELETE' });
    expect(running.status).toBe(409);
    expect(((await running.json()) as { detail: string }).detail).toMatch(/running: cancel it before/);

    await api.request(`/jobs/${jobId}/cancel`, { method: 'POST' });
    await waitForJob(api, jobId);
    const deleted = await api.request(`/jobs/${jobId}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect((await api.request(`/jobs/${jobId}`)).status).toBe(404);
    await expect(fs.access(api.h.store.dir(jobId))).rejects.toThrow();
    const listed = (await (await api.request('/jobs?pageSize=100')).json()) as {
      jobs: Array<{ jobId: string }>;
    };
    expect(listed.jobs.map((j) => j.jobId)).not.toContain(jobId);
    expect((await api.request(`/jobs/${jobId}`, { method: 'DELETE' })).status).toBe(404);
  });
});
