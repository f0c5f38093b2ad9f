import { estimateJob } from '../../activities/plan-job.js';
import fs from 'node:fs';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { previewSheets } from '../../sheets/index.js';
import type { AppDeps } from '../../api/deps.js';
import { createApp } from '../../api/app.js';
import type { ApiServer } from '../../api/server.js';
import { listen } from '../../api/server.js';
import { FALLBACK_LABEL, parseCategories } from '../../domain/categories.js';
import type { ResultSummary } from '../../domain/report.js';
import { isBlank, isInvalidAnswer } from '../../domain/text.js';
import { expectedLabel } from '../../simulator/index.js';
import { expectedLabels } from '../../simulator/labels.js';
import { generateThemedAnswers } from '../../simulator/themes.js';
import { codeframeService, surveyAnswers } from '../helpers/codeframes.js';
import { failingWorkers } from '../helpers/failing-workers.js';
import { codedCells, expectSummaryOfCells } from '../helpers/summary-check.js';
import type { Harness, TestWorkers } from '../helpers/harness.js';
import { createHarness, testOptions } from '../helpers/harness.js';
import { writeSurvey } from '../helpers/survey.js';

/**
 * The web page end to end: a real Temporal dev server, workers, the simulator and the API in this process,
 * driven through headless Debian Chromium. Upload, pick the column, paste the categories, start, watch the
 * live bar reach 100 %, download the coded workbook and check every row.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const EXAMPLES = path.resolve(import.meta.dirname, '../../examples');
const SURVEY = path.join(EXAMPLES, 'customer-survey.xlsx');
const CATEGORIES_TEXT = fs.readFileSync(path.join(EXAMPLES, 'categories.txt'), 'utf8');
const TOKEN = 'e2e-secret-token';
/** Where the page links each job in the Temporal UI (TEMPORAL_UI_URL); never opened by the test. */
const TEMPORAL_UI = 'http://temporal-ui.invalid:8080';

let h: Harness;
let workers: TestWorkers;
let browser: Browser;
const servers: ApiServer[] = [];
let open: ApiServer;
let guarded: ApiServer;

async function serve(extra: Partial<AppDeps> = {}): Promise<ApiServer> {
  const shutdown = new AbortController();
  const sse = { open: 0 };
  const app = createApp({
    jobs: h.jobs(workers.taskQueue),
    codeframes: codeframeService(h.env.client, h.store, workers.taskQueue),
    dataDir: h.dataDir,
    namespace: 'default',
    defaults: testOptions(),
    preview: previewSheets,
    estimate: estimateJob,
    maxUploadBytes: 20 * 1024 * 1024,
    shutdown: shutdown.signal,
    sse,
    progressIntervalMs: 200,
    ...extra,
  });
  const server = await listen({ app, host: '127.0.0.1', port: 0, shutdown, sse, drainMs: 1_000 });
  servers.push(server);
  return server;
}

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: the browser test drives Debian's chromium. ` +
        '`npm test` installs it with apt-get as root (scripts/ensure-chromium.ts), or set CHROMIUM_PATH.',
    );
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  h = await createHarness({ latency: { meanMs: 60 } });
  workers = await h.startWorkers();
  open = await serve({ temporalUiUrl: TEMPORAL_UI });
  guarded = await serve({ apiToken: TOKEN });
});

afterAll(async () => {
  await browser?.close();
  for (const server of servers) await server.close();
  await h?.close();
});

/** A fresh browser context whose page errors fail the test. */
async function openPage(url: string): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url);
  return { context, page, errors };
}

describe('the web page', () => {
  it('shows each problem next to its field: a file that is not a spreadsheet, then every other mistake at once', async () => {
    const { context, page, errors } = await openPage(`${open.url}/`);
    try {
      await page.setInputFiles('#file', {
        name: 'notes.pdf',
        mimeType: 'application/pdf',
        buffer: Buffer.from('%PDF-1.4 not a survey'),
      });
      const fileError = page.locator('#file-error');
      await expect.poll(() => fileError.textContent()).toContain('cannot be read as a spreadsheet');
      expect(await fileError.textContent()).toContain('notes.pdf');
      expect(await fileError.isVisible()).toBe(true);
      expect(await page.locator('#file').getAttribute('aria-invalid')).toBe('true');

      // A good file, then every other mistake at once: "Other" alone as the categories and two settings
      // out of range. Each is said next to its field in plain words, the focus on the first, and nothing
      // is uploaded.
      await page.setInputFiles('#file', SURVEY);
      await page.locator('#preview-table th button').first().waitFor();
      expect(await fileError.isVisible()).toBe(false);
      const posts: string[] = [];
      page.on('request', (r) => {
        if (r.method() === 'POST' && new URL(r.url()).pathname === '/jobs') posts.push(r.url());
      });
      await page.getByLabel('One category per line').fill('# the fallback alone\nOther');
      await page.locator('#settings summary').click();
      await page.getByLabel('Answers per request', { exact: true }).fill('abc');
      await page.getByLabel('Temperature', { exact: true }).fill('3');
      await page.getByRole('button', { name: 'Start coding' }).click();
      const categoriesError = page.locator('#categories-error');
      await expect
        .poll(() => categoriesError.textContent())
        .toContain('“Other” alone would code every answer');
      expect(await page.locator('#batchSize-error').textContent()).toBe(
        '“abc” is not allowed here. Use a whole number from 1 to 200, or “auto”.',
      );
      expect(await page.locator('#temperature-error').textContent()).toBe(
        '“3” is not allowed here. Use a number from 0 to 2, such as 0.1.',
      );
      for (const id of ['categories', 'batchSize', 'temperature']) {
        expect(await page.locator(`#${id}`).getAttribute('aria-invalid'), id).toBe('true');
      }
      expect(await page.evaluate('document.activeElement?.id')).toBe('categories');
      expect(posts).toEqual([]);
      expect(await page.locator('#jobs .job').count()).toBe(0);
      // No categories at all is said the same way.
      await page.getByLabel('One category per line').fill('');
      await page.getByRole('button', { name: 'Start coding' }).click();
      await expect.poll(() => categoriesError.textContent()).toContain('List the categories to code into');
      expect(posts).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('codes the example survey: upload, pick E2, paste the categories, start, watch, download', async () => {
    const { context, page, errors } = await openPage(`${open.url}/`);
    const streams: string[] = [];
    page.on('request', (r) => {
      const { pathname } = new URL(r.url());
      if (pathname.endsWith('/events')) streams.push(pathname);
    });
    try {
      await page.setInputFiles('#file', SURVEY);
      const header = page.locator('#preview-table th button', { hasText: 'E2' });
      await header.waitFor();
      // The workbook has two sheets: the other one previews its own rows, and back again.
      const sheet = page.getByLabel('Sheet', { exact: true });
      expect(await sheet.locator('option').allTextContents()).toEqual(['Responses', 'Notes']);
      await sheet.selectOption('Notes');
      await expect.poll(() => page.locator('#preview-table').textContent()).toContain('Fieldwork');
      expect(await header.count()).toBe(0);
      await sheet.selectOption('Responses');
      await header.waitFor();
      // The preview shows the header row and the first answers; E2 has the longest texts, so it is
      // pre-selected; clicking it keeps it.
      expect(await page.locator('#preview-table tbody tr').count()).toBe(5);
      await header.click();
      expect(await header.getAttribute('aria-pressed')).toBe('true');
      expect(await page.locator('#column-choice').textContent()).toContain('E2');

      await page.getByLabel('One category per line').fill(CATEGORIES_TEXT);
      expect(await page.locator('#categories-count').textContent()).toBe('6 categories, plus Other.');
      // Small batches, two at a time: the bar has time to move.
      const response = await startCoding(page, { batchSize: '8', concurrency: '2' });
      expect(response.status()).toBe(202);
      const { jobId } = (await response.json()) as { jobId: string };

      const card = page.locator(`#job-${jobId}`);
      // The new card is on the screen, its heading not cut off, and has the focus.
      await expect.poll(() => page.evaluate('document.activeElement?.id')).toBe(`job-${jobId}`);
      await expect
        .poll(async () => {
          const box = await card.boundingBox();
          return box !== null && box.y >= 0 && box.y < 900;
        })
        .toBe(true);
      expect(await page.locator('#dry-run').isVisible()).toBe(false);
      const bar = card.getByRole('progressbar');
      const seen: number[] = [];
      const live = { rate: new Set<string>(), eta: new Set<string>() };
      await expect
        .poll(
          async () => {
            const now = await bar.getAttribute('aria-valuenow');
            if (now !== null && Number(now) !== seen.at(-1)) seen.push(Number(now));
            if (now !== null && Number(now) > 0 && Number(now) < 100) {
              live.rate.add((await card.locator('[data-stat="rate"]').textContent()) ?? '');
              live.eta.add((await card.locator('[data-stat="eta"]').textContent()) ?? '');
            }
            return now;
          },
          { timeout: 45_000, interval: 50 },
        )
        .toBe('100');
      // Fed by the job's Server-Sent Events, with the rate and time left while it ran.
      expect(streams).toContain(`/jobs/${jobId}/events`);
      expect(
        [...live.rate].some((t) => /^[\d,]+\/min$/.test(t)),
        [...live.rate].join(' | '),
      ).toBe(true);
      expect(
        [...live.eta].some((t) => /\d+ ?(s|min)|almost done/.test(t)),
        [...live.eta].join(' | '),
      ).toBe(true);
      // The bar was fed live: it moved through values between 0 and 100 and never went back.
      expect(
        seen.some((v) => v > 0 && v < 100),
        `values seen: ${seen.join(', ')}`,
      ).toBe(true);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));

      const download = card.getByRole('link', { name: 'Download .xlsx' });
      await download.waitFor({ timeout: 20_000 });
      expect(await card.locator('.badge').textContent()).toBe('Done');
      expect(await card.locator('[data-stat="rows"]').textContent()).toBe('400 / 400');
      expect(await card.locator('[data-stat="fallbacks"]').textContent()).toBe('0 rows');
      expect(await card.locator('[data-stat="limited"]').textContent()).toBe('0');
      expect(await card.getByRole('button', { name: /^Cancel/ }).isVisible()).toBe(false);
      // The operator's figures and links wait behind Details.
      expect(await card.locator('[data-stat="limited"]').isVisible()).toBe(false);
      await card.getByText('Details', { exact: true }).click();
      expect(await card.locator('[data-stat="limited"]').isVisible()).toBe(true);
      expect(await card.getByRole('link', { name: /in the Temporal UI/ }).getAttribute('href')).toBe(
        `${TEMPORAL_UI}/namespaces/default/workflows/${jobId}`,
      );
      expect(await card.getByRole('link', { name: '.csv' }).getAttribute('href')).toBe(
        `/jobs/${jobId}/result?format=csv`,
      );

      const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
      expect(file.suggestedFilename()).toBe('customer-survey.coded.xlsx');
      const saved = path.join(h.dataDir, `downloaded-${jobId}.xlsx`);
      await file.saveAs(saved);
      await expectCodedSurvey(saved);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('says above the form that a server without an API key codes with the simulator', async () => {
    const dry = await serve({ simulated: true });
    const { context, page, errors } = await openPage(`${dry.url}/`);
    try {
      const banner = page.locator('#dry-run');
      await expect.poll(() => banner.isVisible()).toBe(true);
      expect(await banner.textContent()).toMatch(/Dry run\..*simulator.*OPENAI_API_KEY/s);
      const below = await page.locator('#job-form').boundingBox();
      const box = await banner.boundingBox();
      expect(box && below && box.y < below.y).toBe(true);
      // The model field does not name a model as if it answered: the simulator does.
      const model = page.locator('#model');
      expect(await model.getAttribute('placeholder')).not.toMatch(/^default:/);
      expect(await model.getAttribute('placeholder')).toMatch(/^simulated/);
      const hint = page.locator('#model-hint');
      expect(await hint.textContent()).toBe(
        'Simulated: no OPENAI_API_KEY on the server, so the simulator answers, whatever model is named here.',
      );
      expect(await model.getAttribute('aria-describedby')).toContain('model-hint');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('codes several categories per answer with the switch on: the workbook has a 0/1 column per category and per net', async () => {
    const { context, page, errors } = await openPage(`${open.url}/`);
    try {
      await page.setInputFiles('#file', SURVEY);
      await page.locator('#preview-table th button', { hasText: 'E2' }).click();
      // The codeframe starts with a net line: text, not JSON.
      await page.getByLabel('One category per line').fill(NETTED_TEXT);
      expect(await page.locator('#categories-count').textContent()).toBe('6 categories, plus Other.');
      const at = page.getByLabel('At most', { exact: true });
      expect(await at.isVisible()).toBe(false);
      await page.getByRole('switch', { name: 'Several categories per answer' }).check();
      await at.fill('3');
      const response = await startCoding(page, { batchSize: '20', concurrency: '4' });
      expect(response.status(), await response.text()).toBe(202);
      const { jobId } = (await response.json()) as { jobId: string };

      const card = page.locator(`#job-${jobId}`);
      const download = card.getByRole('link', { name: 'Download .xlsx' });
      await download.waitFor({ timeout: 60_000 });
      const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
      const saved = path.join(h.dataDir, `multi-${jobId}.xlsx`);
      await file.saveAs(saved);
      await expectDichotomies(saved, 3);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('codes through the Batch API with its switch on: the card shows the round and its batches, the workbook every row', async () => {
    // Batches that take seconds, looked at every few tenths of a second.
    const fast = await serve({ defaults: testOptions({ batchPoll: { initialMs: 200, maxMs: 400 } }) });
    h.sim.configure({ timeScale: 0.02, batch: { lineMs: 20_000 } });
    h.sim.resetStats();
    const { context, page, errors } = await openPage(`${fast.url}/`);
    try {
      await page.setInputFiles('#file', SURVEY);
      await page.locator('#preview-table th button', { hasText: 'E2' }).click();
      await page.getByLabel('One category per line').fill(CATEGORIES_TEXT);
      const batchApi = page.getByRole('switch', { name: /Batch API/ });
      expect(await batchApi.isChecked()).toBe(false);
      await batchApi.check();
      const response = await startCoding(page, { batchSize: '10', concurrency: '2' });
      expect(response.status(), await response.text()).toBe(202);
      const { jobId } = (await response.json()) as { jobId: string };
      const spec = await h.store.readJson<{ options: { batchApi?: boolean } }>(jobId, 'job.json');
      expect(spec.options.batchApi).toBe(true);

      const card = page.locator(`#job-${jobId}`);
      const line = card.locator('.job-batch-api');
      await expect
        .poll(() => line.textContent(), { timeout: 30_000, interval: 50 })
        .toMatch(/round 1: in progress \d+\/\d+/);
      const download = card.getByRole('link', { name: 'Download .xlsx' });
      await download.waitFor({ timeout: 60_000 });
      expect(await line.textContent()).toMatch(/^Batch API: \d+ of \d+ requests answered in 1 round$/);
      expect(h.sim.stats().batch.batchesCreated).toBe(1);
      expect(h.sim.stats().requests).toBe(0);
      const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
      const saved = path.join(h.dataDir, `batch-api-${jobId}.xlsx`);
      await file.saveAs(saved);
      await expectCodedSurvey(saved);
      expect(errors).toEqual([]);
    } finally {
      h.sim.configure({ timeScale: 1, batch: {} });
      await context.close();
    }
  });

  it('asks for the API token once, keeps it for the tab and sends it with every call', async () => {
    const { context, page, errors } = await openPage(`${guarded.url}/`);
    try {
      const dialog = page.getByRole('dialog', { name: 'API token needed' });
      await dialog.waitFor();
      await dialog.getByLabel('API token').fill('wrong');
      await dialog.getByRole('button', { name: 'Use this token' }).click();
      await expect.poll(() => page.locator('#token-text').textContent()).toContain('not accepted');
      await dialog.getByLabel('API token').fill(TOKEN);
      await dialog.getByRole('button', { name: 'Use this token' }).click();
      await dialog.waitFor({ state: 'hidden' });

      // The job of the previous test, listed with the token; its download goes through fetch + the token.
      const card = page.locator('#jobs .job').first();
      const download = card.getByRole('link', { name: 'Download .xlsx' });
      await download.waitFor();
      const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
      expect(file.suggestedFilename()).toBe('customer-survey.coded.xlsx');
      const saved = path.join(h.dataDir, 'downloaded-with-token.xlsx');
      await file.saveAs(saved);
      expect(fs.statSync(saved).size).toBeGreaterThan(10_000);

      // Kept for the tab: a reload asks no more.
      await page.reload();
      await page.locator('#jobs .job').first().waitFor();
      expect(await dialog.isVisible()).toBe(false);
      expect(await page.evaluate('sessionStorage.getItem("verbatim.apiToken")')).toBe(TOKEN);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('pauses, resumes and cancels a job from its card, then downloads the partial result', async () => {
    const { context, page, errors } = await openPage(`${open.url}/`);
    page.on('dialog', (dialog) => void dialog.accept());
    try {
      // One answer a request, one at a time: slow enough to act on while it runs.
      const { jobId, card } = await codeSurvey(page, CATEGORIES_TEXT, { batchSize: '1', concurrency: '1' });
      const bar = card.getByRole('progressbar');
      await expect
        .poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 30_000 })
        .toBeGreaterThan(0);

      await card.getByRole('button', { name: /^Pause/ }).click();
      await expect.poll(() => card.locator('[data-stat="eta"]').textContent()).toBe('paused');
      await card.getByRole('button', { name: /^Resume/ }).click();
      await expect.poll(() => card.locator('[data-stat="eta"]').textContent()).not.toBe('paused');

      await card.getByRole('button', { name: /^Cancel/ }).click();
      await expect.poll(() => card.locator('.badge').textContent(), { timeout: 30_000 }).toBe('Cancelled');
      const download = card.getByRole('link', { name: 'Download partial .xlsx' });
      await download.waitFor({ timeout: 20_000 });
      const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
      expect(file.suggestedFilename()).toBe('customer-survey.partial.xlsx');
      const saved = path.join(h.dataDir, `partial-${jobId}.xlsx`);
      await file.saveAs(saved);
      const { coded, blank } = await countCoded(saved);
      // Rows coded before the cancel are kept; the rest are left blank, and none is lost.
      expect(coded).toBeGreaterThan(0);
      expect(blank).toBeGreaterThan(0);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('sends the column picked as coded by hand, and shows the agreement on the job card', async () => {
    const { context, page, errors } = await openPage(`${open.url}/`);
    try {
      await page.setInputFiles('#file', SURVEY);
      await page.locator('#preview-table th button', { hasText: 'E2' }).click();
      const gold = page.getByLabel('Coded by hand (optional)');
      // None by default; then a column of the preview (its header names no category: nothing agrees).
      expect(await gold.inputValue()).toBe('');
      const options = await gold.locator('option').allTextContents();
      expect(options[0]).toBe('None');
      await gold.selectOption({ index: 1 });
      const picked = options[1] ?? '';
      await page.getByLabel('One category per line').fill(CATEGORIES_TEXT);
      const response = await startCoding(page, { batchSize: '50', concurrency: '5' });
      expect(response.status()).toBe(202);
      const { jobId } = (await response.json()) as { jobId: string };
      // The job was stored with the column picked (by header, or by letter when the header is not unique).
      const spec = JSON.parse(fs.readFileSync(h.store.file(jobId, 'job.json'), 'utf8')) as {
        goldColumn?: string;
      };
      expect(spec.goldColumn).toBeDefined();
      expect(picked).toContain(spec.goldColumn ?? '');
      const card = page.locator(`#job-${jobId}`);
      const line = card.locator('.job-quality');
      await line.waitFor({ timeout: 60_000 });
      expect(await line.textContent()).toMatch(
        new RegExp(`^Agreement with “${picked.replace(/^[A-Z]+: /, '')}” on [\\d,]+ rows: \\d+\\.\\d %, κ`),
      );
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('estimates the cost before the start, then shows the cost on the card: held at its cap, raised, done', async () => {
    const { context, page, errors } = await openPage(`${open.url}/`);
    try {
      await page.setInputFiles('#file', SURVEY);
      await page.locator('#preview-table th button', { hasText: 'E2' }).click();
      await page.getByLabel('One category per line').fill(CATEGORIES_TEXT);
      await page.locator('#settings summary').click();
      await page.getByLabel('Answers per request', { exact: true }).fill('40');
      // The estimate starts nothing: no job start is sent (other tests' cards may be on the list).
      const starts: string[] = [];
      page.on('request', (r) => {
        if (r.method() === 'POST' && new URL(r.url()).pathname === '/jobs') starts.push(r.url());
      });
      const estimated = page.waitForResponse(
        (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/jobs/estimate',
      );
      await page.getByRole('button', { name: 'Estimate cost' }).click();
      const e = (await (await estimated).json()) as {
        requests: number;
        cost: { sync: number | null; batch: number | null };
      };
      expect(e.cost.sync).not.toBeNull();
      const line = page.locator('#estimate-result');
      await expect.poll(() => line.textContent()).toContain(`Estimate: ${e.requests} requests`);
      expect(await line.textContent()).toContain('with the Batch API');
      expect(starts).toEqual([]);

      // A cap of about two requests, one request at a time: the job waits at it, and says so.
      const cap = ((e.cost.sync ?? 0) / e.requests) * 2.5;
      await page.locator('#maxCost').fill(cap.toFixed(6));
      const started = await startCoding(page, { batchSize: '40', concurrency: '1' });
      expect(started.status()).toBe(202);
      const { jobId } = (await started.json()) as { jobId: string };
      const card = page.locator(`#job-${jobId}`);
      const cost = card.locator('.job-cost');
      await expect.poll(() => cost.textContent(), { timeout: 60_000 }).toContain('Waiting at the cost cap');
      expect(await cost.textContent()).toMatch(/^Cost so far: \$[\d.]+ of a \$[\d.]+ cap/);

      // Lifted from the card's details: the job goes on to the end.
      await card.locator('.job-details summary').click();
      await card.locator('.cap input').fill('');
      await card.locator('.cap button').click();
      await expect.poll(() => card.locator('.badge').textContent(), { timeout: 60_000 }).toBe('Done');
      expect(await cost.textContent()).toMatch(/^Cost so far: \$[\d.]+$/);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('crosses the codes with banner columns picked in the form, on the card, and scrolls a wide table inside its box on a phone', async () => {
    const { context, page, errors } = await openPage(`${open.url}/`);
    try {
      await page.setInputFiles('#file', SURVEY);
      await page.locator('#preview-table th button', { hasText: 'E2' }).click();
      await page.getByLabel('C: Country').check();
      await page.getByLabel('D: D1').check();
      // A column of scores from 0 to 10 is offered the NPS groups.
      expect(await page.getByLabel('Groups of D1').inputValue()).toBe(
        '0-6:Detractors,7-8:Passives,9-10:Promoters',
      );
      await page.getByLabel('One category per line').fill(CATEGORIES_TEXT);
      const response = await startCoding(page, { batchSize: '40', concurrency: '5' });
      expect(response.status()).toBe(202);
      const { jobId } = (await response.json()) as { jobId: string };
      const spec = JSON.parse(fs.readFileSync(h.store.file(jobId, 'job.json'), 'utf8')) as { by?: string[] };
      expect(spec.by).toEqual(['Country', 'D1=0-6:Detractors,7-8:Passives,9-10:Promoters']);

      // The survey's own countries, counted here from the file, are the table's columns and bases.
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.readFile(SURVEY);
      const sheet = workbook.getWorksheet('Responses')!;
      const byCountry = new Map<string, number>();
      sheet.eachRow((row, n) => {
        const answer = row.getCell('E').text;
        if (n < 4 || isBlank(answer) || isInvalidAnswer(answer)) return;
        const country = row.getCell('C').text;
        byCountry.set(country, (byCountry.get(country) ?? 0) + 1);
      });

      const card = page.locator(`#job-${jobId}`);
      const section = card.locator('.job-tables');
      await section.waitFor({ state: 'visible', timeout: 60_000 });
      await section.locator('summary').click();
      const country = section.locator('table.crosstab', { hasText: 'E2 by Country' });
      await country.waitFor();
      const heads = await country.locator('thead th').allTextContents();
      const total = [...byCountry.values()].reduce((a, b) => a + b, 0);
      expect(heads).toEqual([
        'Code',
        ...[...byCountry.keys()].sort().map((c) => `${c}n = ${byCountry.get(c)}`),
        `Totaln = ${total}`,
      ]);
      // Each code's counts over the countries add up to its Total (every respondent has a country).
      const price = (
        await country.locator('tbody tr', { hasText: 'Price' }).locator('td .count').allTextContents()
      ).map(Number);
      expect(price.slice(0, -1).reduce((a, b) => a + b, 0)).toBe(price.at(-1));
      expect(
        await section
          .locator('table.crosstab', { hasText: 'E2 by D1' })
          .locator('thead th')
          .allTextContents(),
      ).toEqual([
        'Code',
        expect.stringMatching(/^Detractorsn = \d+$/),
        expect.stringMatching(/^Passivesn = \d+$/),
        expect.stringMatching(/^Promotersn = \d+$/),
        `Totaln = ${total}`,
      ]);
      expect(await section.locator('.crosstab-notes').first().textContent()).toContain(
        'two-proportion z-test',
      );

      // Another banner after the job, from the card.
      await section.getByLabel('Banner column').fill('Age');
      await section.getByRole('button', { name: 'Show table' }).click();
      await section.locator('table.crosstab', { hasText: 'E2 by Age' }).waitFor();

      // On a phone the wide table scrolls inside its box, not the page.
      await page.setViewportSize({ width: 390, height: 844 });
      await country.scrollIntoViewIfNeeded();
      // A string: the test is type-checked without the DOM's types.
      const widths = await page.evaluate<{ page: number; viewport: number; box: number[] }>(`({
        page: document.documentElement.scrollWidth,
        viewport: window.innerWidth,
        box: [...document.querySelectorAll('.crosstab-block .table-wrap')].map((w) => w.scrollWidth - w.clientWidth),
      })`);
      expect(widths.page).toBeLessThanOrEqual(widths.viewport);
      expect(Math.max(...widths.box)).toBeGreaterThan(0);

      // Run again with changes: the banners come back ticked, with their groups.
      await page.setViewportSize({ width: 1280, height: 900 });
      await card.getByRole('button', { name: /^Run .* again with changes$/ }).click();
      await expect.poll(() => page.getByLabel('C: Country').isChecked()).toBe(true);
      expect(await page.getByLabel('D: D1').isChecked()).toBe(true);
      expect(await page.getByLabel('Groups of D1').inputValue()).toBe(
        '0-6:Detractors,7-8:Passives,9-10:Promoters',
      );
      expect(await page.getByLabel('F: Age').isChecked()).toBe(false);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('names the job on its card, and asks before coding the same file twice: show that job, or code again', async () => {
    const { context, page, errors } = await openPage(`${open.url}/`);
    const NAME = 'Wave 3 · what to improve';
    try {
      await page.setInputFiles('#file', SURVEY);
      await page.locator('#preview-table th button', { hasText: 'E2' }).click();
      await page.getByLabel('One category per line').fill(CATEGORIES_TEXT);
      await page.getByLabel('Name (optional)').fill(NAME);
      // A batch size no other test here uses: an identical earlier job would answer this start (200).
      const first = await startCoding(page, { batchSize: '45', concurrency: '4' });
      expect(first.status()).toBe(202);
      const { jobId } = (await first.json()) as { jobId: string };
      const card = page.locator(`#job-${jobId}`);
      expect(await card.locator('.job-title').textContent()).toBe(NAME);
      expect(await card.locator('.job-source').textContent()).toBe('customer-survey.xlsx · E2');
      await expect.poll(() => card.locator('.badge').textContent(), { timeout: 60_000 }).toBe('Done');

      // Its categories and settings, under Details, in the form's words (not the variables behind them).
      await card.locator('.job-details > summary').click();
      const settings = card.locator('.job-settings');
      await expect.poll(() => settings.isVisible()).toBe(true);
      const started = {
        Sheet: 'Responses',
        Column: 'E2',
        Categories: 'Price, Delivery, Product quality, Customer service, Website and app and 1 more',
        'Categories per answer': 'one',
        'Answers per request': '45',
        'Requests at once': '4',
        Model: 'gpt-4o-mini',
        Temperature: '0.1',
        'Batch API': 'off',
        'Cost cap': 'none',
      };
      expect(await settingsOf(settings)).toEqual(started);
      expect(await settings.textContent()).not.toMatch(/BATCH_SIZE|OPENAI|PARALLEL|MAX_C/);
      // Every category, on demand.
      await settings.getByText('and 1 more').click();
      expect(await settings.locator('ol li').allTextContents()).toEqual([
        'Price',
        'Delivery',
        'Product quality',
        'Customer service',
        'Website and app',
        'Product range',
      ]);

      // The same file, column, categories and settings again: nothing starts, the page asks first.
      const cards = await page.locator('#jobs .job').count();
      const duplicate = nextStart(page, 200);
      await page.getByRole('button', { name: 'Start coding' }).click();
      expect(((await (await duplicate).json()) as { jobId: string }).jobId).toBe(jobId);
      const dialog = page.getByRole('dialog', { name: 'Coded before' });
      await dialog.waitFor();
      expect(await dialog.locator('#ask-text').textContent()).toBe(
        `This file was already coded with the same settings (job “${NAME}”, done). Code it again?`,
      );
      // "Show that job": the question closes, the earlier card is focused, nothing was started.
      await dialog.getByRole('button', { name: 'Show that job' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await expect.poll(() => page.evaluate('document.activeElement?.id')).toBe(`job-${jobId}`);
      expect(await page.locator('#jobs .job').count()).toBe(cards);

      // "Code again": the form is sent again with force=true and a new job starts.
      await page.getByRole('button', { name: 'Start coding' }).click();
      await dialog.waitFor();
      const forced = nextStart(page, 202);
      await dialog.getByRole('button', { name: 'Code again' }).click();
      const response = await forced;
      // A 202 for the very form the server just answered 200 to: the page sent force=true.
      const { jobId: second } = (await response.json()) as { jobId: string };
      expect(second).not.toBe(jobId);
      await expect.poll(() => page.locator(`#job-${second} .job-title`).textContent()).toBe(NAME);
      expect(await page.locator('#jobs .job').count()).toBe(cards + 1);

      // The name comes back from the server's list after a reload, the settings from the job's view.
      await page.reload();
      await expect.poll(() => page.locator(`#job-${jobId} .job-title`).textContent()).toBe(NAME);
      await expect.poll(() => settingsOf(page.locator(`#job-${jobId} .job-settings`))).toEqual(started);

      // "Run again with changes": the form comes back as the job was started, on the file the server keeps.
      await page.reload();
      await page
        .locator(`#job-${jobId}`)
        .getByRole('button', { name: /^Run .* again with changes$/ })
        .click();
      const note = page.locator('#again-note');
      await expect.poll(() => note.textContent()).toContain('Runs again on “customer-survey.xlsx”');
      expect(await note.textContent()).toContain('choose another file above to code that one instead');
      expect(await page.getByLabel('Name (optional)').inputValue()).toBe(NAME);
      expect(await page.getByLabel('One category per line').inputValue()).toBe(
        CATEGORIES_TEXT.trim().replace(/\r\n?/g, '\n'),
      );
      expect(await page.locator('#file-name').textContent()).toContain('customer-survey.xlsx');
      const e2 = page.locator('#preview-table th button', { hasText: 'E2' });
      await expect.poll(() => e2.getAttribute('aria-pressed')).toBe('true');
      if ((await page.locator('#settings').getAttribute('open')) === null)
        await page.locator('#settings summary').click();
      expect(await page.getByLabel('Answers per request', { exact: true }).inputValue()).toBe('45');
      expect(await page.getByLabel('Requests at once', { exact: true }).inputValue()).toBe('4');

      // A change (a batch size no other test uses), and Start: the form names the job's upload instead of
      // sending the file again.
      const again = await startCoding(page, { batchSize: '46', concurrency: '4' });
      expect(again.status()).toBe(202);
      const sent = again.request().postData() ?? '';
      expect(sent).toMatch(new RegExp(`name="jobId"\\r\\n\\r\\n${jobId}\\r\\n`));
      expect(sent).not.toContain('name="file"');
      const { jobId: third } = (await again.json()) as { jobId: string };
      const thirdCard = page.locator(`#job-${third}`);
      expect(await thirdCard.locator('.job-source').textContent()).toBe('customer-survey.xlsx · E2');
      await expect.poll(() => thirdCard.locator('.badge').textContent(), { timeout: 60_000 }).toBe('Done');

      // Another file chosen: that file is what is coded, and the note about the job's goes.
      await page.setInputFiles('#file', SURVEY);
      await expect.poll(() => note.isHidden()).toBe(true);
      await expect.poll(() => e2.getAttribute('aria-pressed')).toBe('true');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('deletes an ended job after asking, and the card goes', async () => {
    const { context, page, errors } = await openPage(`${open.url}/`);
    try {
      const card = page
        .locator('#jobs .job')
        .filter({ has: page.getByRole('button', { name: /^Delete/ }) })
        .first();
      await card.waitFor();
      const jobId = (await card.getAttribute('data-job')) ?? '';
      const dialog = page.getByRole('dialog', { name: 'Delete this job?' });
      // Cancel keeps it (and is what the dialog focuses, so Enter does no harm).
      await card.getByRole('button', { name: /^Delete/ }).click();
      await dialog.waitFor();
      expect(await page.evaluate('document.activeElement?.textContent')).toBe('Cancel');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      expect(await page.locator(`#job-${jobId}`).count()).toBe(1);

      await card.getByRole('button', { name: /^Delete/ }).click();
      await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
      await expect.poll(() => page.locator(`#job-${jobId}`).count()).toBe(0);
      expect((await page.request.get(`${open.url}/jobs/${jobId}`)).status()).toBe(404);
      await expect
        .poll(async () =>
          JSON.stringify(await (await page.request.get(`${open.url}/jobs?pageSize=100`)).json()),
        )
        .not.toContain(jobId);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  // 184 two-answer batches one at a time, twice over: its own waits allow 90 s for the second half alone.
  it(
    'resumes a cancelled job from its card: it runs again and completes with every row coded',
    { timeout: 180_000 },
    async () => {
      const { context, page, errors } = await openPage(`${open.url}/`);
      page.on('dialog', (dialog) => void dialog.accept());
      try {
        const { jobId, card } = await codeSurvey(page, CATEGORIES_TEXT, { batchSize: '2', concurrency: '1' });
        const bar = card.getByRole('progressbar');
        await expect
          .poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 30_000 })
          .toBeGreaterThan(0);
        await card.getByRole('button', { name: /^Cancel/ }).click();
        await expect.poll(() => card.locator('.badge').textContent(), { timeout: 30_000 }).toBe('Cancelled');
        expect(await card.getByRole('button', { name: /^Retry/ }).count()).toBe(0);

        await card.getByRole('button', { name: /^Resume/ }).click();
        // Back to running (the Cancel button is offered again), then done.
        await card.getByRole('button', { name: /^Cancel/ }).waitFor({ timeout: 20_000 });
        await expect.poll(() => card.locator('.badge').textContent(), { timeout: 90_000 }).toBe('Done');
        const download = card.getByRole('link', { name: 'Download .xlsx' });
        await download.waitFor({ timeout: 20_000 });
        const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
        expect(file.suggestedFilename()).toBe('customer-survey.coded.xlsx');
        const saved = path.join(h.dataDir, `resumed-${jobId}.xlsx`);
        await file.saveAs(saved);
        const { coded, blank } = await countCoded(saved);
        expect(blank).toBe(0);
        expect(coded).toBeGreaterThan(300);
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    },
  );

  it('suggests the categories from the answers, fills the box with the draft, and a job starts with them', async () => {
    const survey = path.join(h.dataDir, 'themes.xlsx');
    await writeSurvey(survey, surveyAnswers(generateThemedAnswers(600, 5)));
    const { context, page, errors } = await openPage(`${open.url}/`);
    try {
      const suggestButton = page.getByRole('button', { name: 'Suggest categories' });
      // Nothing to read yet: no file, no column.
      expect(await suggestButton.isDisabled()).toBe(true);
      await page.setInputFiles('#file', survey);
      const header = page.locator('#preview-table th button', { hasText: 'E2' });
      await header.click();
      expect(await suggestButton.isEnabled()).toBe(true);

      const drafted = page.waitForResponse(
        (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/codeframes',
      );
      await suggestButton.click();
      const response = await drafted;
      expect(response.status()).toBe(202);
      const { codeframeId } = (await response.json()) as { codeframeId: string };
      // The progress is shown while the draft runs, and the button waits for it.
      await expect.poll(() => page.locator('#suggest-status').textContent()).not.toBe('');
      const box = page.getByLabel('One category per line');
      await expect.poll(() => box.inputValue(), { timeout: 60_000 }).not.toBe('');

      // The box holds the drafted file, as the API serves it; the table shows each code and its share.
      const text = await (await fetch(`${open.url}/codeframes/${codeframeId}/result`)).text();
      expect(await box.inputValue()).toBe(text);
      const view = (await (await fetch(`${open.url}/codeframes/${codeframeId}`)).json()) as {
        codeframe: { codes: Array<{ label: string; net?: string }> };
      };
      const codes = view.codeframe.codes;
      const parsed = parseCategories(text);
      expect(parsed.map((c) => c.name)).toEqual([...codes.map((c) => c.label), 'Other']);
      expect(text).toMatch(/^\[.+\]$/m); // the themes' nets, as [Net] lines
      const rows = page.locator('#suggested-table tbody tr:not(.net)');
      expect(await rows.count()).toBe(codes.length + 1);
      const first = await rows.first().locator('td').allTextContents();
      expect(first[0]).toBe(codes[0]?.label);
      expect(first[1]).toMatch(/^\d+(\.\d)?\s?%$/);
      expect(await page.locator('#suggested-table tr.net').count()).toBe(
        new Set(codes.flatMap((c) => (c.net ? [c.net] : []))).size,
      );
      expect(await page.locator('#categories-count').textContent()).toBe(`${codes.length + 1} categories.`);

      // Start: the job codes into the drafted categories, nets and all.
      const started = page.waitForResponse(
        (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/jobs',
      );
      await page.getByRole('button', { name: 'Start coding' }).click();
      const job = await started;
      expect(job.status()).toBe(202);
      const { jobId } = (await job.json()) as { jobId: string };
      const spec = await h.store.readJson<{ categories: unknown }>(jobId, 'job.json');
      expect(spec.categories).toEqual(parsed);
      await page.locator(`#job-${jobId}`).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);
});

describe("the result on a job's card", () => {
  /** The card's result as the page shows it: each line's label, count, share and examples, and the stamps. */
  async function shownResult(card: Locator) {
    const section = card.locator('.job-result');
    await section.waitFor({ timeout: 90_000 });
    const items = [];
    for (const li of await section.locator('.result-item').all()) {
      items.push({
        label: await li.locator('.result-label').textContent(),
        count: await li.locator('.result-count').textContent(),
        share: await li.locator('.result-share').textContent(),
        examples: await li.locator('.result-examples li').allTextContents(),
      });
    }
    return {
      items,
      stamps: await section.locator('.stamp').allTextContents(),
      base: (await section.locator('.result-base').textContent()) ?? '',
      notice: (await section.locator('.result-notice').isVisible())
        ? await section.locator('.result-notice').textContent()
        : null,
    };
  }

  /** The page shows what GET /jobs/:id/summary says, line for line. */
  function expectShown(shown: Awaited<ReturnType<typeof shownResult>>, summary: ResultSummary): void {
    expect(shown.items).toEqual(
      summary.categories.map((c) => ({
        label: `${c.code === null ? '' : `${c.code} `}${c.kind === 'net' ? `NET ${c.label}` : c.kind === 'unknown' ? `${c.label} (not in the codeframe)` : c.label}`,
        count: `${c.respondents.toLocaleString('en-US')} ${c.respondents === 1 ? 'respondent,' : 'respondents,'}`,
        share: `${(c.share * 100).toFixed(1)} %`,
        examples: c.examples,
      })),
    );
    expect(shown.base).toContain(
      `Base: ${summary.base.respondents.toLocaleString('en-US')} respondents coded`,
    );
    expect(shown.stamps).toEqual([
      ...(summary.simulated ? ['SIMULATED'] : []),
      ...(summary.partial ? ['PARTIAL'] : []),
    ]);
  }

  async function summaryOf(page: Page, url: string, jobId: string): Promise<ResultSummary> {
    const response = await page.request.get(`${url}/jobs/${jobId}/summary`);
    expect(response.status()).toBe(200);
    return (await response.json()) as ResultSummary;
  }

  async function downloaded(page: Page, link: Locator, name: string): Promise<ExcelJS.Workbook> {
    const [file] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const saved = path.join(h.dataDir, name);
    await file.saveAs(saved);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(saved);
    return workbook;
  }

  const cellsOf = (workbook: ExcelJS.Workbook) => {
    const sheet = workbook.getWorksheet('Responses');
    if (!sheet) throw new Error('no Responses sheet in the download');
    return codedCells(sheet, { answer: 'E', category: 'G', first: 4, last: 403 });
  };

  it('opens a finished job to its result: the figures of GET /summary and of the coded cells, on a screen and on a phone', async () => {
    const { context, page, errors } = await openPage(`${open.url}/`);
    try {
      const { jobId, card } = await codeSurvey(page, NETTED_TEXT, { batchSize: '25', concurrency: '4' });
      const shown = await shownResult(card);
      const summary = await summaryOf(page, open.url, jobId);
      expectShown(shown, summary);
      expect(shown.notice).toBeNull();
      expect(summary.categories.some((c) => c.kind === 'net')).toBe(true);
      // The same figures as the workbook's cells, counted row by row.
      const workbook = await downloaded(
        page,
        card.getByRole('link', { name: 'Download .xlsx' }),
        `result-${jobId}.xlsx`,
      );
      expectSummaryOfCells(workbook, cellsOf(workbook), summary);
      // Each bar is as long as its share (the figures are text; the bar is hidden from screen readers).
      const bars = card.locator('.result-bar');
      expect(await bars.count()).toBe(summary.categories.length);
      for (const [i, c] of summary.categories.entries()) {
        expect(await bars.nth(i).getAttribute('aria-hidden')).toBe('true');
        const style = (await bars.nth(i).locator('div').getAttribute('style')) ?? '';
        expect(Number(/width: ([\d.]+)%/.exec(style)?.[1]), c.label).toBeCloseTo(c.share * 100, 3);
      }
      // On a phone the result fits the card: nothing wider than the screen.
      await page.setViewportSize({ width: 390, height: 844 });
      await card.locator('.job-result').scrollIntoViewIfNeeded();
      const overflow = await page.evaluate(
        `(() => { const el = document.querySelector('#job-${jobId} .job-result');
          return el.scrollWidth - el.clientWidth + Math.max(0, el.getBoundingClientRect().right - 390); })()`,
      );
      expect(overflow).toBeLessThanOrEqual(0);
      // The title keeps the file name whole: its badges go under it rather than squeeze it to a few letters
      // a line. Each part of the name (between the breaks after - . _) on one line, the short name on one.
      const title = await page.evaluate<{
        badges: string[];
        parts: Array<{ text: string; lines: number[] }>;
      }>(
        `(() => {
          const title = document.querySelector('#job-${jobId} .job-title');
          const tops = (node) => { const r = document.createRange(); r.selectNodeContents(node);
            return [...new Set([...r.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top)))]; };
          const parts = [...title.childNodes].filter((n) => n.nodeType === 3 && n.textContent.trim() !== '')
            .map((n) => ({ text: n.textContent, lines: tops(n) }));
          const badges = [...document.querySelectorAll('#job-${jobId} .job-head > span:not([hidden])')]
            .map((b) => b.textContent);
          return { badges, parts };
        })()`,
      );
      expect(title.badges.length).toBeGreaterThanOrEqual(1);
      expect(title.parts.map((p) => p.text).join('')).toBe('customer-survey.xlsx');
      for (const part of title.parts)
        expect(part.lines, `"${part.text}" broken across lines`).toHaveLength(1);
      expect(new Set(title.parts.flatMap((p) => p.lines)).size, JSON.stringify(title)).toBe(1);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('offers the rows a failed job coded, stamps its result PARTIAL, and retries it to the end', async () => {
    const failing = await failingWorkers(h, 3);
    const flaky = await serve({ jobs: h.jobs(failing.taskQueue) });
    const { context, page, errors } = await openPage(`${flaky.url}/`);
    try {
      // A batch size no other test here uses, so the start is not answered by an identical earlier job.
      const { jobId, card } = await codeSurvey(page, CATEGORIES_TEXT, { batchSize: '12', concurrency: '1' });
      await expect.poll(() => card.locator('.badge').textContent(), { timeout: 60_000 }).toBe('Failed');
      await failing.stop();

      const soFar = card.getByRole('link', { name: 'Download the rows coded so far' });
      await soFar.waitFor({ timeout: 20_000 });
      const partial = await downloaded(page, soFar, `failed-${jobId}.xlsx`);
      const cells = cellsOf(partial);
      // Three batches of answers coded before the failure, the rest left blank.
      expect([...cells.labels.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(30);
      expect(cells.blank).toBeGreaterThan(0);
      const summary = await summaryOf(page, flaky.url, jobId);
      expect(summary).toMatchObject({ partial: true, ended: 'failed' });
      expectSummaryOfCells(partial, cells, summary);
      const shown = await shownResult(card);
      expectShown(shown, summary);
      expect(shown.notice).toMatch(/^The job failed after \d+ of \d+ rows to code/);

      // Retried on workers that work: back to running, then done, with every row coded.
      const working = await h.startWorkers({ taskQueue: failing.taskQueue });
      try {
        await card.getByRole('button', { name: /^Retry/ }).click();
        await expect.poll(() => card.locator('.badge').textContent(), { timeout: 90_000 }).toBe('Done');
        const whole = await downloaded(
          page,
          card.getByRole('link', { name: 'Download .xlsx' }),
          `retried-${jobId}.xlsx`,
        );
        const all = cellsOf(whole);
        expect(all.blank).toBe(0);
        const done = await summaryOf(page, flaky.url, jobId);
        expect(done).toMatchObject({ partial: false, ended: 'completed' });
        expectSummaryOfCells(whole, all, done);
        await expect.poll(async () => (await shownResult(card)).stamps).toEqual(['SIMULATED']);
        expectShown(await shownResult(card), done);
        expect(await soFar.isVisible()).toBe(false);
      } finally {
        await working.stop();
      }
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 180_000);
});

/** Data rows of the downloaded survey with and without a label in `E2 category` (answers only). */
async function countCoded(file: string): Promise<{ coded: number; blank: number }> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(file);
  const sheet = workbook.getWorksheet('Responses');
  if (!sheet) throw new Error('no Responses sheet in the download');
  let coded = 0;
  let blank = 0;
  for (let r = 4; r <= sheet.rowCount; r += 1) {
    const row = sheet.getRow(r);
    if (!row.hasValues || isBlank(row.getCell(5).text)) continue;
    if (row.getCell(7).text === '') blank += 1;
    else coded += 1;
  }
  return { coded, blank };
}

/** Every data row with an answer has the simulator's label in `E2 category`; empty answers stay blank. */
async function expectCodedSurvey(file: string): Promise<void> {
  const categories = parseCategories(CATEGORIES_TEXT);
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(file);
  const sheet = workbook.getWorksheet('Responses');
  if (!sheet) throw new Error('no Responses sheet in the download');
  const headerRow = sheet.getRow(3);
  let answerColumn = 0;
  let categoryColumn = 0;
  headerRow.eachCell((cell, column) => {
    if (cell.text === 'E2') answerColumn = column;
    if (cell.text === 'E2 category') categoryColumn = column;
  });
  expect(answerColumn).toBe(5);
  expect(categoryColumn).toBeGreaterThan(answerColumn);

  const allowed = new Set([...categories.map((c) => c.name), FALLBACK_LABEL]);
  let rows = 0;
  let coded = 0;
  let blank = 0;
  for (let r = 4; r <= sheet.rowCount; r += 1) {
    const row = sheet.getRow(r);
    if (!row.hasValues) continue;
    rows += 1;
    const answer = row.getCell(answerColumn).text;
    const label = row.getCell(categoryColumn).text;
    if (isBlank(answer)) {
      expect(label, `row ${r} has no answer`).toBe('');
      blank += 1;
      continue;
    }
    const want = isInvalidAnswer(answer) ? FALLBACK_LABEL : expectedLabel(answer, categories);
    expect(label, `row ${r}: ${JSON.stringify(answer)}`).toBe(want);
    expect(allowed.has(label)).toBe(true);
    coded += 1;
  }
  expect(rows).toBe(400);
  expect(coded + blank).toBe(400);
  expect(coded).toBeGreaterThan(300);
}

/** The example categories in two nets, as an analyst groups them; the text starts with a net line. */
const NETTED_TEXT = (() => {
  const line = (name: string) => {
    const found = CATEGORIES_TEXT.split('\n').find((l) => l.startsWith(`${name}:`));
    if (!found) throw new Error(`no ${name} in examples/categories.txt`);
    return found;
  };
  return [
    '[Buying]',
    line('Price'),
    line('Product quality'),
    line('Product range'),
    '[Service]',
    line('Delivery'),
    line('Customer service'),
    line('Website and app'),
  ].join('\n');
})();

/**
 * The multi-code download: after `E2 category`, `E2: <label>` for each category (Other too), then
 * `E2: NET <net>`; each answer's 1s are the simulator's categories for it (at most `maxCodes`), a net 1 when
 * any of its categories is; rows with no answer, or an invalid one, blank there.
 */
async function expectDichotomies(file: string, maxCodes: number): Promise<void> {
  const categories = parseCategories(NETTED_TEXT);
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(file);
  const sheet = workbook.getWorksheet('Responses');
  if (!sheet) throw new Error('no Responses sheet in the download');
  const headers: string[] = [];
  sheet.getRow(3).eachCell({ includeEmpty: true }, (cell, column) => (headers[column] = cell.text));
  const labelAt = headers.indexOf('E2 category');
  const names = [...categories.map((c) => c.name), FALLBACK_LABEL];
  const nets = ['Buying', 'Service'];
  expect(headers.slice(labelAt + 1, labelAt + 1 + names.length + nets.length)).toEqual([
    ...names.map((n) => `E2: ${n}`),
    ...nets.map((n) => `E2: NET ${n}`),
  ]);
  let coded = 0;
  let several = 0;
  for (let r = 4; r <= sheet.rowCount; r += 1) {
    const row = sheet.getRow(r);
    if (!row.hasValues) continue;
    const answer = row.getCell(5).text;
    const flags = [...names, ...nets].map((_, k) => row.getCell(labelAt + 1 + k).text);
    if (isBlank(answer) || isInvalidAnswer(answer)) {
      expect(
        flags.every((f) => f === ''),
        `row ${r}: ${JSON.stringify(answer)}`,
      ).toBe(true);
      continue;
    }
    const want = expectedLabels(answer, categories, { multi: true, maxCodes });
    const inNet = (net: string) => categories.some((c) => c.net === net && want.includes(c.name));
    expect(row.getCell(labelAt).text, `row ${r}`).toBe(want.join('; '));
    expect(flags, `row ${r}: ${JSON.stringify(answer)}`).toEqual([
      ...names.map((n) => (want.includes(n) ? '1' : '0')),
      ...nets.map((n) => (inNet(n) ? '1' : '0')),
    ]);
    coded += 1;
    if (want.length > 1) several += 1;
  }
  expect(coded).toBeGreaterThan(300);
  // The survey has answers that name several categories: the switch made a difference.
  expect(several).toBeGreaterThan(0);
}

/** Sets answers per request and requests at once in the settings, starts, and returns the POST /jobs answer. */
/** Codes the example survey's E2 into `categories` from the page: the job's id and card. */
async function codeSurvey(
  page: Page,
  categories: string,
  settings: { batchSize: string; concurrency: string },
) {
  await page.setInputFiles('#file', SURVEY);
  await page.locator('#preview-table th button', { hasText: 'E2' }).click();
  await page.getByLabel('One category per line').fill(categories);
  const response = await startCoding(page, settings);
  expect(response.status()).toBe(202);
  const { jobId } = (await response.json()) as { jobId: string };
  return { jobId, card: page.locator(`#job-${jobId}`) };
}

async function startCoding(page: Page, settings: { batchSize: string; concurrency: string }) {
  if ((await page.locator('#settings').getAttribute('open')) === null)
    await page.locator('#settings summary').click();
  await page.getByLabel('Answers per request', { exact: true }).fill(settings.batchSize);
  await page.getByLabel('Requests at once', { exact: true }).fill(settings.concurrency);
  const started = page.waitForResponse(
    (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/jobs',
  );
  await page.getByRole('button', { name: 'Start coding' }).click();
  return started;
}

/** A card's settings list as label → value (a long list of categories: the line that opens it). */
async function settingsOf(list: Locator): Promise<Record<string, string>> {
  const settings: Record<string, string> = {};
  for (const row of await list.locator(':scope > div').all()) {
    const dd = row.locator('dd');
    const opens = dd.locator('summary');
    const value = (await opens.count()) > 0 ? opens : dd;
    settings[(await row.locator('dt').textContent()) ?? ''] = (await value.textContent()) ?? '';
  }
  return settings;
}

/** The next answer to POST /jobs with this status. */
function nextStart(page: Page, status: number) {
  return page.waitForResponse(
    (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/jobs' && r.status() === status,
  );
}
