import type ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCategories } from '../../domain/categories.js';
import { TABLE_HEADER } from '../../domain/codeframe-file.js';
import { CODEFRAME_WORKFLOW_TYPE } from '../../jobs/codeframes.js';
import { expectedLabel } from '../../simulator/index.js';
import { THEME_CATALOGUE, themeOfLabel } from '../../simulator/themes.js';
import { trueShares } from '../helpers/codeframes.js';
import { cellText } from '../helpers/survey.js';
import type { ApiHarness, DraftView } from './helpers.js';
import {
  CATEGORIES_TEXT,
  createApiHarness,
  jobForm,
  post,
  startJob,
  themedSurvey,
  waitForDraft,
  waitForJob,
  workbookOf,
} from './helpers.js';

/**
 * `/codeframes` on a real dev server with workers and the simulator over HTTP: a draft from an upload, its
 * files, the drafted text sent unchanged as a job's categories, and a cancel.
 */

let api: ApiHarness;
beforeAll(async () => {
  api = await createApiHarness();
});
afterAll(async () => {
  await api?.close();
});

describe('a codeframe drafted through the API', () => {
  it('drafts the themes of an uploaded column, serves the file and table, and the file codes a job as it is', async () => {
    const { upload, answers } = await themedSurvey(api, 900);
    const response = await api.request('/codeframes', post(jobForm(upload, { column: 'E2' })));
    expect(response.status).toBe(202);
    const { codeframeId } = (await response.json()) as { codeframeId: string };
    const described = await api.h.env.client.workflow.getHandle(codeframeId).describe();
    expect(described.type).toBe(CODEFRAME_WORKFLOW_TYPE);
    expect(described.taskQueue).toBe(api.taskQueue);

    const { view, phases } = await waitForDraft(api, codeframeId);
    expect(view.status, view.error).toBe('COMPLETED');
    expect(view.progress?.phase).toBe('done');
    expect(phases.at(-1)).toBe('done');
    const codes = view.codeframe?.codes ?? [];

    // Every theme of 2 % or more has one code, and every code is a known theme.
    const truth = trueShares(answers);
    const keys = codes.map((c) => themeOfLabel(c.label)?.key);
    for (const t of THEME_CATALOGUE.filter((t) => (truth.get(t.key) ?? 0) >= 0.02))
      expect(keys, t.key).toContain(t.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.every((k) => k !== undefined)).toBe(true);
    expect(codes.every((c) => c.examples.length > 0 && c.share > 0)).toBe(true);

    // The text file is the codeframe of the view: the same codes in the same order and nets, then Other.
    const txt = await api.request(`/codeframes/${codeframeId}/result`);
    expect(txt.status).toBe(200);
    expect(txt.headers.get('content-disposition')).toContain(`filename="themes-900.categories.txt"`);
    const text = await txt.text();
    const parsed = parseCategories(text);
    expect(parsed.map((c) => c.name)).toEqual([...codes.map((c) => c.label), 'Other']);
    expect(parsed.map((c) => c.net ?? '')).toEqual([...codes.map((c) => c.net ?? ''), '']);

    // The table: its header, then a row per code and Other.
    const table = await workbookOf(await api.request(`/codeframes/${codeframeId}/result?format=xlsx`));
    const sheet = table.worksheets[0] as ExcelJS.Worksheet;
    expect((sheet.getRow(1).values as unknown[]).slice(1)).toEqual([...TABLE_HEADER]);
    expect(sheet.getColumn(2).values.slice(2)).toEqual([...codes.map((c) => c.label), 'Other']);

    // The drafted text, unedited, is a job's categories: every answer coded as the simulator's rule says.
    const job = await startJob(api, jobForm(upload, { column: 'E2', categories: text }));
    const final = await waitForJob(api, job.jobId);
    expect(final.status).toBe('COMPLETED');
    const coded = await workbookOf(await api.request(`/jobs/${job.jobId}/result`));
    const data = coded.getWorksheet('Data');
    if (!data) throw new Error('no Data sheet');
    answers.forEach((answer, i) => {
      expect(cellText(data, 3 + i, 'G'), answer).toBe(expectedLabel(answer, parsed));
    });
  }, 120_000);

  it("drafts from a job's stored upload (jobId) what an upload of the same file drafts", async () => {
    const { upload } = await themedSurvey(api, 400, 'again.xlsx');
    const job = await startJob(api, jobForm(upload, { column: 'E2', categories: CATEGORIES_TEXT }));
    const [uploaded, named] = await Promise.all([
      api.request('/codeframes', post(jobForm(upload, { column: 'E2' }))),
      api.request('/codeframes', {
        method: 'POST',
        body: JSON.stringify({ jobId: job.jobId, column: 'E2' }),
        headers: { 'content-type': 'application/json' },
      }),
    ]);
    expect([uploaded.status, named.status]).toEqual([202, 202]);
    const ids = await Promise.all(
      [uploaded, named].map(async (r) => ((await r.json()) as { codeframeId: string }).codeframeId),
    );
    const [byUpload, byJob] = await Promise.all(ids.map(async (id) => (await waitForDraft(api, id)).view));
    expect(byUpload?.status, byUpload?.error).toBe('COMPLETED');
    expect(byJob?.status, byJob?.error).toBe('COMPLETED');
    // The same rows, unique answers and sample read: the job's copy is the same file.
    const answersOf = (view: DraftView | undefined) =>
      (view?.progress as unknown as { answers: Record<string, unknown> } | undefined)?.answers;
    expect(answersOf(byUpload)?.rows).toBeGreaterThan(350);
    expect(answersOf(byJob)).toEqual(answersOf(byUpload));
    // Named after the job's upload, as a draft of the upload is.
    const txt = await api.request(`/codeframes/${ids[1]}/result`);
    expect(txt.headers.get('content-disposition')).toContain('filename="again.categories.txt"');
    expect((await waitForJob(api, job.jobId)).status).toBe('COMPLETED');
  }, 120_000);

  it('cancels a running draft: it ends cancelled, without a codeframe', async () => {
    api.h.sim.configure({ latency: { meanMs: 400, jitterMs: 50 } });
    try {
      const { upload } = await themedSurvey(api, 1_200, 'slow.xlsx');
      const response = await api.request(
        '/codeframes',
        post(jobForm(upload, { column: 'E2', concurrency: '1' })),
      );
      const { codeframeId } = (await response.json()) as { codeframeId: string };
      const cancel = await api.request(`/codeframes/${codeframeId}/cancel`, { method: 'POST' });
      expect(cancel.status).toBe(202);
      const { view } = await waitForDraft(api, codeframeId);
      expect(view.status).toBe('CANCELLED');
      expect(view.codeframe).toBeNull();
      const result = await api.request(`/codeframes/${codeframeId}/result`);
      expect(result.status).toBe(409);
      expect(await result.json()).toMatchObject({ code: 'codeframe_not_finished', jobStatus: 'CANCELLED' });
    } finally {
      api.h.sim.configure({ latency: { meanMs: 5, jitterMs: 3 } });
    }
  }, 60_000);
});
