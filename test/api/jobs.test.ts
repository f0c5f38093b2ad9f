import fs from 'node:fs/promises';
import path from 'node:path';
import type ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCategories } from '../../domain/categories.js';
import type { ResultSummary } from '../../domain/report.js';
import { SIMULATED_WARNING } from '../../domain/report.js';
import { expectedLabel } from '../../simulator/index.js';
import { isInvalidAnswer } from '../../domain/text.js';
import { codedCells, expectSummaryOfCells } from '../helpers/summary-check.js';
import { JOB_WORKFLOW_TYPE } from '../../jobs/service.js';
import { QualitySchema, TablesSchema } from '../../api/schemas.js';
import { testOptions } from '../helpers/harness.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';
import { readSav } from '../helpers/pspp.js';
import { CATEGORIES, makeAnswers } from '../helpers/survey.js';
import type { ApiHarness, JobView, Upload } from './helpers.js';
import {
  CATEGORIES_TEXT,
  EXAMPLE,
  EXAMPLE_CATEGORIES,
  EXAMPLE_ROWS,
  createApiHarness,
  exampleJob,
  filesUnder,
  jobForm,
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
  api = await createApiHarness();
});
afterAll(async () => {
  await api?.close();
});

function sheetText(sheet: ExcelJS.Worksheet | undefined): string {
  if (!sheet) throw new Error('sheet missing');
  const lines: string[] = [];
  sheet.eachRow((row) => {
    const cells: string[] = [];
    row.eachCell({ includeEmpty: true }, (cell) => cells.push(cell.text));
    lines.push(cells.join('\t'));
  });
  return lines.join('\n');
}

describe('a job through the API: POST /jobs, GET /jobs/:id, GET /jobs/:id/result', () => {
  let example: { jobId: string; final: JobView };

  it('starts a job on the example survey: 202, a random job id that is the workflow id, links, the upload under DATA_DIR', async () => {
    const before = await filesUnder(api.h.dataDir);
    const response = await api.request('/jobs', post(exampleJob()));
    expect(response.status).toBe(202);
    const body = (await response.json()) as { jobId: string; status: string; links: Record<string, string> };
    const { jobId } = body;
    expect(jobId).toMatch(/^job-[A-Za-z0-9]{16}$/);
    expect(response.headers.get('location')).toBe(`/jobs/${jobId}`);
    expect(body.status).toBe('RUNNING');
    expect(body.links).toEqual({
      self: `/jobs/${jobId}`,
      events: `/jobs/${jobId}/events`,
      result: `/jobs/${jobId}/result`,
      cancel: `/jobs/${jobId}/cancel`,
      summary: `/jobs/${jobId}/summary`,
    });

    // The workflow id is the job id, and it runs on the API's task queue.
    const description = await api.h.env.client.workflow.getHandle(jobId).describe();
    expect(description.type).toBe(JOB_WORKFLOW_TYPE);
    expect(description.taskQueue).toBe(api.taskQueue);

    // The upload is stored under DATA_DIR/jobs/<id>/ by the job's id, never by the uploaded name.
    const added = (await filesUnder(api.h.dataDir)).filter((f) => !before.includes(f));
    expect(added).toContain(path.join('jobs', jobId, 'input.xlsx'));
    expect(added.every((f) => f.startsWith(path.join('jobs', jobId) + path.sep))).toBe(true);
    expect(Buffer.compare(await fs.readFile(api.h.store.file(jobId, 'input.xlsx')), EXAMPLE)).toBe(0);

    const final = await waitForJob(api, jobId);
    example = { jobId, final };
  });

  it('reports the finished job: status, times, final progress and stats', () => {
    const { jobId, final } = example;
    expect(final).toMatchObject({
      jobId,
      status: 'COMPLETED',
      fileName: 'customer-survey.xlsx',
      links: { self: `/jobs/${jobId}` },
    });
    expect(Date.parse(final.createdAt)).toBeLessThanOrEqual(Date.parse(final.closedAt ?? ''));
    expect(final.progress).toMatchObject({ phase: 'done', rows: { total: 400, done: 400 } });
    expect(final.progress?.batches.done).toBe(final.progress?.batches.total);
    expect(final.stats?.apiCalls).toBeGreaterThan(0);
  });

  it('links each job to the Temporal UI when it has one (the embedded server or TEMPORAL_UI_URL)', async () => {
    const { jobId } = example;
    const withUi = api.makeApp({ temporalUiUrl: 'http://localhost:8080', namespace: 'team a' });
    const response = await withUi.request(`/jobs/${jobId}`);
    const body = (await response.json()) as JobView;
    expect(body.links).toMatchObject({
      self: `/jobs/${jobId}`,
      temporal: `http://localhost:8080/namespaces/team%20a/workflows/${jobId}`,
    });
    // Without one, no link that leads nowhere.
    expect(example.final.links).not.toHaveProperty('temporal');
  });

  it('takes goldColumn: GET /jobs/:id carries the agreement figures as the schema declares them', async () => {
    const { upload } = await smallSurvey(api, 20);
    // The Country column (UK, DE, FR) names no category: every row compared, every label unknown, none agrees.
    const { jobId } = await startJob(api, surveyJob(upload, { goldColumn: 'country' }));
    const job = await waitForJob(api, jobId);
    expect(job.status).toBe('COMPLETED');
    const quality = QualitySchema.parse((job as { quality?: unknown }).quality);
    expect(quality).toMatchObject({
      goldHeader: 'Country',
      rows: 20,
      exactAgreement: 0,
      unknownGoldLabels: 20,
    });
    // The summary carries the same figures.
    const summary = (await (await api.request(`/jobs/${jobId}/summary`)).json()) as ResultSummary;
    expect(summary.agreement).toEqual(quality);

    const refused = await api.request('/jobs', post(surveyJob(upload, { goldColumn: 'Coded by nobody' })));
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ code: 'column_not_found' });
  });

  it('takes banners (by): a Tables sheet in the result, and GET /jobs/:id/tables by them or by others', async () => {
    const { upload, answers } = await smallSurvey(api, 66);
    // The field repeated, as a form sends two banners; the survey's Country (UK, DE, FR) and Score (0–10).
    const { jobId } = await startJob(api, surveyJob(upload, { by: ['Country', 'Score=0-6:Low,7-10:High'] }));
    expect((await waitForJob(api, jobId)).status).toBe('COMPLETED');

    const response = await api.request(`/jobs/${jobId}/tables`);
    expect(response.status).toBe(200);
    const body = TablesSchema.parse(await response.json());
    expect(body.tables.map((t) => [t.banner, t.column, t.header])).toEqual([
      ['Country', 'B', 'Country'],
      ['Score=0-6:Low,7-10:High', 'C', 'Score'],
    ]);
    const [country, score] = body.tables.map((t) => t.table!);
    // writeSurvey: row i is UK, DE, FR by i % 3 and scores i % 11; every answer is coded.
    const base = (keep: (i: number) => boolean) => answers.filter((_, i) => keep(i)).length;
    expect(country!.columns.map((c) => [c.label, c.base])).toEqual([
      ['DE', base((i) => i % 3 === 1)],
      ['FR', base((i) => i % 3 === 2)],
      ['UK', base((i) => i % 3 === 0)],
      ['Total', answers.length],
    ]);
    expect(score!.columns.map((c) => [c.label, c.base])).toEqual([
      ['Low', base((i) => i % 11 <= 6)],
      ['High', base((i) => i % 11 >= 7)],
      ['Total', answers.length],
    ]);
    expect(body.tables[0]!.notes.join(' ')).toMatch(/two-proportion z-test/);

    const workbook = await workbookOf(await api.request(`/jobs/${jobId}/result`));
    expect(sheetText(workbook.getWorksheet('Tables'))).toMatch(/^E2 by Country\n/);

    // After the job, by another column; a column that is not there is named with those that are.
    const age = TablesSchema.parse(await (await api.request(`/jobs/${jobId}/tables?by=Age`)).json());
    expect(age.tables[0]!.table!.columns.map((c) => c.label)).toEqual(['25-34', 'Total']);
    const wrong = await api.request(`/jobs/${jobId}/tables?by=Regoin`);
    expect(wrong.status).toBe(422);
    expect(await wrong.json()).toMatchObject({
      code: 'banner_not_found',
      field: 'by',
      available: expect.arrayContaining(['B "Country"']) as unknown,
    });
  });

  it('gives each upload its own job, even of the same file with the same settings', async () => {
    const { upload } = await smallSurvey(api, 30);
    const a = await startJob(api, surveyJob(upload));
    const b = await startJob(api, surveyJob(upload));
    expect(a.jobId).not.toBe(b.jobId);
    expect(a.jobId).not.toBe(example.jobId);
    await waitForJob(api, a.jobId);
    await waitForJob(api, b.jobId);
  });

  it('never uses the uploaded name as a path: a name with folders is only a display name', async () => {
    const { upload } = await smallSurvey(api, 20);
    const before = await filesUnder(api.h.dataDir);
    const { jobId } = await startJob(api, surveyJob({ ...upload, name: '../../../evil/survey.xlsx' }));
    const job = await waitForJob(api, jobId);
    expect(job).toMatchObject({ status: 'COMPLETED', fileName: 'survey.xlsx' });
    const added = (await filesUnder(api.h.dataDir)).filter((f) => !before.includes(f));
    expect(added.length).toBeGreaterThan(0);
    expect(added.every((f) => f.startsWith(path.join('jobs', jobId) + path.sep))).toBe(true);
    // Nothing written where the name points, from the job's folder or from DATA_DIR.
    for (const base of [api.h.store.dir(jobId), path.join(api.h.dataDir, 'uploads'), api.h.dataDir]) {
      await expect(fs.access(path.resolve(base, '../../../evil'))).rejects.toThrow();
    }
  });

  it('returns the coded workbook: every answer row coded, original sheets kept, Summary and Run added', async () => {
    const response = await api.request(`/jobs/${example.jobId}/result`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    expect(response.headers.get('content-disposition')).toContain('filename="customer-survey.coded.xlsx"');
    const workbook = await workbookOf(response);
    expect(workbook.worksheets.map((s) => s.name)).toEqual(['Responses', 'Notes', 'Summary', 'Run']);
    const sheet = workbook.getWorksheet('Responses');
    if (!sheet) throw new Error('no Responses sheet');
    expect(sheet.getCell('G3').text).toBe('E2 category');
    const categories = parseCategories(EXAMPLE_CATEGORIES);
    let coded = 0;
    for (let row = EXAMPLE_ROWS.first; row <= EXAMPLE_ROWS.last; row += 1) {
      const answer = sheet.getCell(`E${row}`).text;
      const label = sheet.getCell(`G${row}`).text;
      if (answer.trim() === '') expect(label, `row ${row}`).toBe('');
      else {
        expect(label, `row ${row}: ${answer}`).toBe(expectedLabel(answer, categories));
        coded += 1;
      }
    }
    expect(coded).toBe(383); // 400 answers, 17 of them empty
    expect(sheetText(workbook.getWorksheet('Run'))).not.toContain('PARTIAL');
  });

  it('sums the result up (GET /jobs/:id/summary): the figures of the Summary sheet, as the coded cells have them, with example answers', async () => {
    const response = await api.request(`/jobs/${example.jobId}/summary`);
    expect(response.status).toBe(200);
    const summary = (await response.json()) as ResultSummary & { jobId: string; status: string };
    expect(summary).toMatchObject({
      jobId: example.jobId,
      status: 'COMPLETED',
      partial: false,
      ended: 'completed',
      simulated: true,
      multi: false,
      agreement: null,
    });
    expect(summary.notices).toEqual([SIMULATED_WARNING]);
    expect(summary.base.description).toMatch(/^Respondents coded/);
    // Largest first, the fallback after the others.
    const counts = summary.categories.filter((c) => c.kind === 'category').map((c) => c.respondents);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    expect(summary.categories.at(-1)?.kind).toBe('fallback');
    const workbook = await workbookOf(await api.request(`/jobs/${example.jobId}/result`));
    const sheet = workbook.getWorksheet('Responses');
    if (!sheet) throw new Error('no Responses sheet');
    const cells = codedCells(sheet, { answer: 'E', category: 'G', ...EXAMPLE_ROWS });
    expect(cells.invalid).toBeGreaterThan(0); // the example has N/A and the like, kept apart from Other
    expectSummaryOfCells(workbook, cells, summary);
  });

  it('has no summary for an unknown job (404) or one still running (409)', async () => {
    const unknown = await api.request('/jobs/job-nosuchjob0000000/summary');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'job_not_found', field: 'id' });
    // On a queue no worker polls: it stays running.
    const { upload } = await smallSurvey(api, 20, 'waiting.xlsx');
    const waiting = await api.h.jobs(uniqueTaskQueue('idle')).create({
      fileName: 'waiting.xlsx',
      source: { bytes: upload.bytes },
      column: 'E2',
      categories: CATEGORIES,
      options: testOptions(),
      idFrom: 'random',
      // Another test may have coded the same small survey: that job would answer this start.
      force: true,
    });
    const running = await api.request(`/jobs/${waiting.jobId}/summary`);
    expect(running.status).toBe(409);
    expect(await running.json()).toMatchObject({
      code: 'job_not_finished',
      jobStatus: 'RUNNING',
      detail: 'The job is still running: the result is ready when it has completed.',
    });
    await waiting.handle.terminate('test over');
  });

  it('returns the coded data as CSV with ?format=csv, and refuses other formats', async () => {
    const csv = await api.request(`/jobs/${example.jobId}/result?format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toContain('filename="customer-survey.coded.csv"');
    const text = await csv.text();
    expect(text).toContain('E2 category');
    expect(text).toContain('R10001');

    const pdf = await api.request(`/jobs/${example.jobId}/result?format=pdf`);
    expect(pdf.status).toBe(400);
    expect(await pdf.json()).toMatchObject({ field: 'format', detail: 'format must be xlsx, csv or sav' });
  });

  it('returns the coded data as an SPSS system file with ?format=sav: every row a case, each label its code', async () => {
    const response = await api.request(`/jobs/${example.jobId}/result?format=sav`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-spss-sav');
    expect(response.headers.get('content-disposition')).toContain('filename="customer-survey.coded.sav"');
    const file = path.join(api.h.dataDir, 'downloaded.sav');
    await fs.writeFile(file, Buffer.from(await response.arrayBuffer()));
    const back = await readSav(file);
    expect(back.info.get('Cases')).toBe('400');
    const categories = parseCategories(EXAMPLE_CATEGORIES);
    const labels = new Map(back.valueLabels.get('E2_category'));
    expect([...labels.values()]).toEqual(expect.arrayContaining(categories.map((c) => c.name)));
    const answerAt = back.header.indexOf('E2');
    const codeAt = back.header.indexOf('E2_category');
    expect([answerAt, codeAt].every((i) => i >= 0)).toBe(true);
    for (const [k, fields] of back.rows.entries()) {
      const answer = fields[answerAt] ?? '';
      // pspp marks a user-missing value's label with a footnote: "-1[a]".
      const code = fields[codeAt] ?? '';
      const label = labels.get(code) ?? labels.get(`${code}[a]`) ?? '';
      // An invalid answer (N/A, -) is not coded: a labelled missing value, as the Summary leaves it out.
      const wanted =
        answer.trim() === ''
          ? ''
          : isInvalidAnswer(answer)
            ? 'Invalid answer'
            : expectedLabel(answer, categories);
      expect(label, `case ${k + 1}: ${answer} (code ${code})`).toBe(wanted);
    }
  });

  it('makes cells that start with =, +, - or @ safe in the CSV result of a CSV upload', async () => {
    const lines = [
      'ID,Answer',
      '1,=1+1',
      '2,+cmd',
      '3,-x',
      '4,@SUM(A1)',
      '5,the price was too high',
      '6,-3.5',
      '7,"=HYPERLINK(""http://evil.invalid"",""click"")"',
    ];
    const started = await startJob(
      api,
      jobForm(
        { bytes: Buffer.from(lines.join('\r\n') + '\r\n'), name: 'formulas.csv' },
        { column: 'Answer', categories: CATEGORIES_TEXT },
      ),
    );
    expect((await waitForJob(api, started.jobId)).status).toBe('COMPLETED');
    const response = await api.request(`/jobs/${started.jobId}/result?format=csv`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toContain('filename="formulas.coded.csv"');
    const rows = (await response.text()).trim().split(/\r?\n/);
    expect(rows).toEqual([
      // The simulator gives log-probabilities: each answer's confidence follows its category.
      'ID,Answer,Answer category,Answer confidence',
      "1,'=1+1,Other,0.96",
      "2,'+cmd,Other,0.96",
      "3,'-x,Other,0.96",
      "4,'@SUM(A1),Other,0.96",
      '5,the price was too high,Price,0.96',
      '6,-3.5,Other,0.96',
      `7,"'=HYPERLINK(""http://evil.invalid"",""click"")",Other,0.96`,
    ]);
  });

  it('passes the options and categories of the form to the job', async () => {
    const { upload, answers, rows } = await smallSurvey(api, 150, 'options.xlsx');
    const started = await startJob(
      api,
      jobForm(upload, {
        column: 'E2',
        sheet: 'Data',
        // As a list: repeated fields, each "Name" or "Name: description".
        categories: CATEGORIES.map((c) => `${c.name}: ${c.description ?? ''}`),
        batchSize: '25',
        concurrency: '3',
        model: 'gpt-4.1-mini',
        temperature: '0.7',
        parallel: 'true',
      }),
    );
    const final = await waitForJob(api, started.jobId);
    expect(final.status).toBe('COMPLETED');
    expect(final.progress?.batches.total).toBe(Math.ceil(150 / 25));
    expect(final.progress?.window.max).toBe(3);
    const workbook = await workbookOf(await api.request(`/jobs/${started.jobId}/result`));
    const run = sheetText(workbook.getWorksheet('Run'));
    expect(run).toContain('Model\tgpt-4.1-mini');
    expect(run).toContain('Temperature\t0.7');
    expect(run).toContain('Batch size\t25');
    expect(run).toContain('Workers (window)\t3');
    const data = workbook.getWorksheet('Data');
    if (!data) throw new Error('no Data sheet');
    answers.forEach((answer, i) => {
      const row = rows[i] ?? 0;
      expect(data.getCell(`G${row}`).text).toBe(expectedLabel(answer ?? '', CATEGORIES));
    });

    // `parallel=false` runs one batch at a time whatever the concurrency.
    const serial = await startJob(
      api,
      jobForm(upload, {
        column: 'E2',
        categories: JSON.stringify(['Price', 'Delivery']),
        batchSize: '30',
        concurrency: '4',
        parallel: 'false',
      }),
    );
    const serialFinal = await waitForJob(api, serial.jobId);
    expect(serialFinal.status).toBe('COMPLETED');
    expect(serialFinal.progress?.window.max).toBe(1);
  });

  it('takes the categories as a text file part too (curl -F categories=@categories.txt)', async () => {
    const form = exampleJob({ categories: undefined });
    form.append('categories', new File(['Price: what it costs\nDelivery\n'], 'categories.txt'));
    const started = await startJob(api, form);
    const spec = await api.h.store.readJsonIfExists<{ categories: unknown }>(
      api.h.store.file(started.jobId, 'job.json'),
    );
    expect(spec?.categories).toEqual([{ name: 'Price', description: 'what it costs' }, { name: 'Delivery' }]);
    await api.request(`/jobs/${started.jobId}/cancel`, { method: 'POST' });
  });
});

describe("a job again from its upload: GET /jobs/:id's startedWith, POST /jobs with jobId", () => {
  /** The first job: a generated survey with settings of every kind, coded to the end. */
  let first: { jobId: string; upload: Upload; answers: Array<string | null>; rows: number[] };
  const json = (body: unknown): RequestInit => ({
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  /** The coded column of a job's result, row by row. */
  async function codedColumn(jobId: string): Promise<string[]> {
    const workbook = await workbookOf(await api.request(`/jobs/${jobId}/result`));
    const data = workbook.getWorksheet('Data');
    if (!data) throw new Error(`no Data sheet in ${jobId}'s result`);
    return first.rows.map((row) => data.getCell(`G${row}`).text);
  }

  beforeAll(async () => {
    const { upload, answers, rows } = await smallSurvey(api, 60, 'wave-1.xlsx');
    const { jobId } = await startJob(
      api,
      jobForm(upload, {
        name: 'Wave 1',
        column: 'E2',
        sheet: 'Data',
        question: 'Why that score?',
        categories: CATEGORIES_TEXT,
        by: 'Country',
        batchSize: '25',
        concurrency: '3',
        model: 'gpt-4.1-mini',
        temperature: '0.7',
        maxCost: '5',
        batchApi: 'false',
      }),
    );
    expect((await waitForJob(api, jobId)).status).toBe('COMPLETED');
    first = { jobId, upload, answers, rows };
  });

  it('says what the job was started with, in the form’s own fields, the defaults included, and no secret', async () => {
    const locked = api.makeApp({ apiToken: 'again-token' });
    const response = await locked.request(`/jobs/${first.jobId}`, {
      headers: { authorization: 'Bearer again-token' },
    });
    expect(response.status).toBe(200);
    const text = await response.text();
    const job = JSON.parse(text) as { startedWith?: unknown };
    expect(job.startedWith).toEqual({
      name: 'Wave 1',
      sheet: 'Data',
      column: 'E2',
      by: ['Country'],
      question: 'Why that score?',
      categories: CATEGORIES_TEXT,
      batchSize: 25,
      concurrency: 3,
      temperature: 0.7,
      model: 'gpt-4.1-mini',
      parallel: true,
      maxCost: 5,
      batchApi: false,
    });
    // Neither the token it was asked with nor any key, nor the options the form has no field for.
    expect(text).not.toContain('again-token');
    expect(text).not.toMatch(/apiKey|api_key|authorization|secret|retry|rateLimitDelay/i);
  });

  it('starts the same job again from the stored upload (JSON with jobId): the same rows, the same codes', async () => {
    const { startedWith } = (await (await api.request(`/jobs/${first.jobId}`)).json()) as {
      startedWith: Record<string, unknown>;
    };
    // Unchanged, it is the same job: the first one is answered, nothing starts.
    const same = await api.request('/jobs', json({ jobId: first.jobId, ...startedWith }));
    expect(same.status).toBe(200);
    expect(await same.json()).toMatchObject({ jobId: first.jobId, duplicate: true });

    const again = await api.request('/jobs', json({ jobId: first.jobId, ...startedWith, force: true }));
    expect(again.status).toBe(202);
    const { jobId } = (await again.json()) as { jobId: string };
    expect(jobId).not.toBe(first.jobId);
    // Its own copy of the upload: the first job can be deleted while it runs.
    expect(Buffer.compare(await fs.readFile(api.h.store.file(jobId, 'input.xlsx')), first.upload.bytes)).toBe(
      0,
    );
    const final = await waitForJob(api, jobId);
    expect(final).toMatchObject({ status: 'COMPLETED', fileName: 'wave-1.xlsx' });
    expect((final as { startedWith?: unknown }).startedWith).toEqual(startedWith);
    expect(await codedColumn(jobId)).toEqual(await codedColumn(first.jobId));
    expect(await codedColumn(jobId)).toEqual(
      first.answers.map((answer) => (answer ? expectedLabel(answer, CATEGORIES) : '')),
    );
  });

  it('runs again with changes as a form naming the job instead of a file, as the web page sends it', async () => {
    const changed = await api.request(
      '/jobs',
      post(
        jobForm(undefined, {
          jobId: first.jobId,
          column: 'E2',
          sheet: 'Data',
          categories: CATEGORIES_TEXT,
          batchSize: '10',
          name: 'Wave 1, smaller batches',
        }),
      ),
    );
    expect(changed.status).toBe(202);
    const { jobId } = (await changed.json()) as { jobId: string };
    const final = await waitForJob(api, jobId);
    expect(final).toMatchObject({
      status: 'COMPLETED',
      fileName: 'wave-1.xlsx',
      name: 'Wave 1, smaller batches',
    });
    expect(final.progress?.batches.total).toBe(6);
    expect(await codedColumn(jobId)).toEqual(await codedColumn(first.jobId));
  });

  it('estimates and previews the stored upload as it would the file itself', async () => {
    const fields = { column: 'E2', sheet: 'Data', categories: CATEGORIES_TEXT };
    const fromFile = await api.request('/jobs/estimate', post(jobForm(first.upload, fields)));
    const fromJob = await api.request('/jobs/estimate', json({ jobId: first.jobId, ...fields }));
    expect(fromJob.status).toBe(200);
    expect(await fromJob.json()).toEqual(await fromFile.json());

    const before = await filesUnder(api.h.dataDir);
    const preview = await api.request('/jobs/preview', post(jobForm(undefined, { jobId: first.jobId })));
    expect(preview.status).toBe(200);
    const uploaded = await api.request('/jobs/preview', post(jobForm(first.upload)));
    expect(await preview.json()).toEqual(await uploaded.json());
    // The job's upload is read where it is: nothing added, nothing taken.
    expect(await filesUnder(api.h.dataDir)).toEqual(before);
  });

  it('answers 404 naming the jobId, and 400 for a file and a jobId together, and starts nothing', async () => {
    const before = await filesUnder(api.h.dataDir);
    const fields = { column: 'E2', categories: CATEGORIES_TEXT };
    for (const [pathname, init] of [
      ['/jobs', post(jobForm(undefined, { jobId: 'job-nosuchjob0000000', ...fields }))],
      ['/jobs', json({ jobId: 'job-nosuchjob0000000', ...fields })],
      ['/jobs/estimate', json({ jobId: 'job-nosuchjob0000000', ...fields })],
      ['/jobs/preview', json({ jobId: 'job-nosuchjob0000000' })],
      ['/jobs', json({ jobId: '../jobs', ...fields })],
    ] as const) {
      const response = await api.request(pathname, init);
      expect(response.status, pathname).toBe(404);
      const problem = (await response.json()) as { code: string; field: string; detail: string };
      expect(problem).toMatchObject({ code: 'job_not_found', field: 'jobId' });
      expect(problem.detail).toMatch(/^No job "(job-nosuchjob0000000|\.\.\/jobs)" keeps an uploaded file/);
    }
    // With a setting refused too: both named in one 400, the unknown jobId not hiding the setting.
    for (const pathname of ['/jobs', '/jobs/estimate']) {
      for (const [setting, code] of [
        [{ maxCodes: 3 }, 'invalid_field'],
        [{ temperature: 9 }, 'out_of_range'],
      ] as const) {
        const init = json({ jobId: 'job-nosuchjob0000000', ...fields, ...setting });
        const mixed = await api.request(pathname, init);
        expect(mixed.status, pathname).toBe(400);
        const body = (await mixed.json()) as { errors: { field: string; code: string }[] };
        expect(body.errors.map((e) => [e.field, e.code])).toEqual([
          [Object.keys(setting)[0], code],
          ['jobId', 'job_not_found'],
        ]);
      }
    }
    const both = await api.request('/jobs', post(jobForm(first.upload, { jobId: first.jobId, ...fields })));
    expect(both.status).toBe(400);
    expect(await both.json()).toMatchObject({ code: 'conflicting_fields', field: 'jobId' });
    expect(await filesUnder(api.h.dataDir)).toEqual(before);
  });

  it('leaves out what an older job did not keep: its categories text', async () => {
    const specFile = api.h.store.file(first.jobId, 'job.json');
    const { categoriesText: _, ...older } = JSON.parse(await fs.readFile(specFile, 'utf8')) as Record<
      string,
      unknown
    >;
    await fs.writeFile(specFile, JSON.stringify(older));
    const job = (await (await api.request(`/jobs/${first.jobId}`)).json()) as {
      startedWith: Record<string, unknown>;
    };
    expect(job.startedWith).not.toHaveProperty('categories');
    expect(job.startedWith).toMatchObject({ column: 'E2', sheet: 'Data', batchSize: 25 });
  });
});

describe('GET /jobs', () => {
  interface ListedJob {
    jobId: string;
    status: string;
    fileName: string | null;
    column: string | null;
    phase: string | null;
    rows: number | null;
    fallbacks: number | null;
    createdAt: string | null;
    closedAt: string | null;
    links: Record<string, string>;
  }
  interface JobList {
    jobs: ListedJob[];
    nextPageToken: string | null;
  }

  async function list(query = ''): Promise<JobList> {
    const response = await api.request(`/jobs${query}`);
    expect(response.status).toBe(200);
    return (await response.json()) as JobList;
  }

  /** Visibility is eventually consistent: waits until the listing agrees. */
  async function listUntil(ok: (page: JobList) => boolean, query = ''): Promise<JobList> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const page = await list(query);
      if (ok(page) || Date.now() > deadline) return page;
      await sleep(50);
    }
  }

  it('lists jobs newest first by creation, running or finished', async () => {
    const { upload } = await smallSurvey(api, 30, 'listed.xlsx');
    const older = await startJob(api, surveyJob(upload));
    await waitForJob(api, older.jobId);
    api.h.sim.configure({ latency: { meanMs: 100 } });
    const running = await startJob(api, surveyJob(upload));
    const paused = await api.request(`/jobs/${running.jobId}`, patch({ paused: true }));
    expect(paused.status).toBe(200);
    api.h.sim.configure({ latency: { meanMs: 5, jitterMs: 3 } });
    const newer = await startJob(api, surveyJob(upload, { column: 'Weight', categories: 'Heavy\nLight' }));
    await waitForJob(api, newer.jobId);

    const page = await listUntil(
      (p) =>
        p.jobs.some((j) => j.jobId === running.jobId && j.status === 'RUNNING') &&
        p.jobs.filter((j) => [older.jobId, newer.jobId].includes(j.jobId) && j.closedAt).length === 2,
    );
    const ids = page.jobs.map((j) => j.jobId);
    // The running job sits between the two finished ones, by when each was created.
    expect(ids.indexOf(newer.jobId)).toBeGreaterThanOrEqual(0);
    expect(ids.indexOf(newer.jobId)).toBeLessThan(ids.indexOf(running.jobId));
    expect(ids.indexOf(running.jobId)).toBeLessThan(ids.indexOf(older.jobId));
    const created = page.jobs.map((j) => Date.parse(j.createdAt ?? ''));
    expect(created).toEqual([...created].sort((a, b) => b - a));

    const listed = page.jobs.find((j) => j.jobId === newer.jobId);
    expect(listed).toEqual({
      jobId: newer.jobId,
      status: 'COMPLETED',
      name: null,
      fileName: 'listed.xlsx',
      column: 'Weight',
      phase: 'done',
      rows: 30,
      fallbacks: 0,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
      closedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
      links: expect.objectContaining({ self: `/jobs/${newer.jobId}` }) as unknown,
    });
    expect(page.jobs.find((j) => j.jobId === running.jobId)).toMatchObject({
      status: 'RUNNING',
      closedAt: null,
    });

    expect((await api.request(`/jobs/${running.jobId}`, patch({ paused: false }))).status).toBe(200);
    expect((await waitForJob(api, running.jobId)).status).toBe('COMPLETED');
  });

  it('lists a job that continued as new once, as its latest run', async () => {
    const { started: long } = await api.h.startSurvey(
      api.taskQueue,
      'long.xlsx',
      makeAnswers(40),
      testOptions({ maxWorkers: 2 }),
      { batchesPerRun: 2 },
    );
    await long.handle.result();
    const page = await listUntil((p) =>
      p.jobs.some((j) => j.jobId === long.jobId && j.status === 'COMPLETED'),
    );
    // Created when its first run started, in the list and on its own page, not when the last run did.
    const history = await long.handle.fetchHistory();
    const firstRunId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.firstExecutionRunId;
    const first = await api.h.env.client.workflow.getHandle(long.jobId, firstRunId ?? undefined).describe();
    const last = await long.handle.describe();
    expect(last.runId).not.toBe(first.runId);
    const createdAt = first.startTime.toISOString();
    expect(page.jobs.filter((j) => j.jobId === long.jobId)).toEqual([
      expect.objectContaining({ status: 'COMPLETED', phase: 'done', rows: 40, createdAt }),
    ]);
    const own = (await (await api.request(`/jobs/${long.jobId}`)).json()) as { createdAt: string };
    expect(own.createdAt).toBe(createdAt);
  });

  it('pages with pageSize and pageToken, every job once', async () => {
    const all = await list('?pageSize=100');
    expect(all.jobs.length).toBeGreaterThanOrEqual(3);
    const seen: string[] = [];
    let token: string | null = null;
    do {
      const query: string = `?pageSize=2${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`;
      const page = await list(query);
      expect(page.jobs.length).toBeLessThanOrEqual(2);
      seen.push(...page.jobs.map((j) => j.jobId));
      token = page.nextPageToken;
    } while (token);
    expect(seen).toEqual(all.jobs.map((j) => j.jobId));
  });

  it('refuses a page token it did not give out', async () => {
    const response = await api.request('/jobs?pageToken=not-a-token');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ field: 'pageToken' });
  });

  it('refuses a page size out of range', async () => {
    for (const size of ['0', '101', '2.5', 'ten']) {
      const response = await api.request(`/jobs?pageSize=${size}`);
      expect(response.status, size).toBe(400);
      expect(await response.json()).toMatchObject({ field: 'pageSize', code: 'invalid_field' });
    }
  });
});

describe('POST /jobs/preview', () => {
  it('shows the sheets, the header row and the first rows, and keeps nothing', async () => {
    const before = await filesUnder(api.h.dataDir);
    const response = await api.request(
      '/jobs/preview',
      post(jobForm({ bytes: EXAMPLE, name: 'customer-survey.xlsx' })),
    );
    expect(response.status).toBe(200);
    const preview = (await response.json()) as {
      fileName: string;
      format: string;
      sheets: Array<{ name: string }>;
      sheet: string;
      headerRow: number;
      questionRow: number;
      columns: Array<{ letter: string; header: string; question?: string }>;
      rows: Array<{ row: number; cells: string[] }>;
    };
    expect(preview).toMatchObject({
      fileName: 'customer-survey.xlsx',
      format: 'xlsx',
      sheet: 'Responses',
      headerRow: 3,
      questionRow: 2,
    });
    expect(preview.sheets.map((s) => s.name)).toEqual(['Responses', 'Notes']);
    expect(preview.columns.map((c) => c.header)).toEqual(['ID', 'Date', 'Country', 'D1', 'E2', 'Age']);
    expect(preview.columns[4]).toEqual({
      letter: 'E',
      header: 'E2',
      question: 'What is the main reason for your score?',
    });
    expect(preview.rows.map((r) => r.row)).toEqual([4, 5, 6, 7, 8]);
    expect(preview.rows[0]?.cells[0]).toBe('R10001');
    // The upload was a temporary file under DATA_DIR: gone once answered.
    expect(await filesUnder(api.h.dataDir)).toEqual(before);
  });

  it('previews another sheet by name, and a CSV file', async () => {
    const notes = await api.request(
      '/jobs/preview',
      post(jobForm({ bytes: EXAMPLE, name: 'customer-survey.xlsx' }, { sheet: 'Notes' })),
    );
    expect(notes.status).toBe(200);
    expect(await notes.json()).toMatchObject({ sheet: 'Notes', sheetIndex: 2 });

    const csv = await api.request(
      '/jobs/preview',
      post(jobForm({ bytes: Buffer.from('ID;Answer\n1;too expensive\n2;late\n'), name: 'answers.csv' })),
    );
    expect(csv.status).toBe(200);
    expect(await csv.json()).toMatchObject({
      format: 'csv',
      sheet: 'answers',
      headerRow: 1,
      columns: [
        { letter: 'A', header: 'ID' },
        { letter: 'B', header: 'Answer' },
      ],
      rows: [
        { row: 2, cells: ['1', 'too expensive'] },
        { row: 3, cells: ['2', 'late'] },
      ],
    });
  });
});

it('serves the live progress of a running job (GET /jobs/:id before the end)', async () => {
  api.h.sim.configure({ latency: { meanMs: 100 } });
  try {
    const { upload } = await smallSurvey(api, 120);
    const started = await startJob(api, surveyJob(upload));
    const live = await waitForJob(
      api,
      started.jobId,
      (job) => job.status !== 'RUNNING' || (job.progress?.batches.done ?? 0) > 0,
    );
    expect(live.status).toBe('RUNNING');
    expect(live.progress).toMatchObject({ phase: 'classifying', paused: false, rows: { total: 120 } });
    expect(live.progress?.rows.done).toBeLessThan(120);
    expect(live.stats).toBeNull();
    expect(live.closedAt).toBeNull();

    // No result while it runs.
    const early = await api.request(`/jobs/${started.jobId}/result`);
    expect(early.status).toBe(409);
    expect(await early.json()).toMatchObject({
      code: 'job_not_finished',
      status: 409,
      field: 'id',
      jobStatus: 'RUNNING',
    });

    expect((await waitForJob(api, started.jobId)).status).toBe('COMPLETED');
  } finally {
    api.h.sim.configure({ latency: { meanMs: 5, jitterMs: 3 } });
  }
});

it('reports why a job failed, and has no result for it', async () => {
  // A job on a queue no worker polls yet, whose stored upload disappears before a worker reads it.
  const queue = uniqueTaskQueue('late');
  const { upload } = await smallSurvey(api, 20, 'vanishing.xlsx');
  const started = await api.h.jobs(queue).create({
    fileName: 'vanishing.xlsx',
    source: { bytes: upload.bytes },
    column: 'E2',
    categories: CATEGORIES,
    options: testOptions(),
    idFrom: 'random',
  });
  await fs.rm(api.h.store.file(started.jobId, 'input.xlsx'));
  await api.h.startWorkers({ taskQueue: queue });
  const failed = await waitForJob(api, started.jobId);
  expect(failed).toMatchObject({
    status: 'FAILED',
    error: 'Input file not found: vanishing.xlsx',
    stats: null,
  });
  expect(failed.closedAt).not.toBeNull();
  const result = await api.request(`/jobs/${started.jobId}/result`);
  expect(result.status).toBe(409);
  expect(await result.json()).toMatchObject({
    code: 'job_not_finished',
    jobStatus: 'FAILED',
    detail: 'The job failed before any row was coded: there is no result (GET /jobs/{id} says why).',
  });
});
