import { defaultPayloadConverter } from '@temporalio/common';
import type { Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiHarness, JobView } from './helpers.js';
import { createApiHarness, patch, sleep, smallSurvey, startJob, surveyJob, waitForJob } from './helpers.js';

let api: ApiHarness;

beforeAll(async () => {
  api = await createApiHarness({ sim: { latency: { meanMs: 30, jitterMs: 10 } } });
});
afterAll(async () => {
  await api?.close();
});

interface SseEvent {
  event: string;
  data: string;
  id?: string;
  retry?: number;
}

/**
 * Reads a Server-Sent Events body to its end (or until `until` says stop), failing after `timeoutMs` rather
 * than hanging the test.
 */
async function readEvents(
  response: Response,
  options: { until?: (event: SseEvent) => boolean; timeoutMs?: number } = {},
): Promise<{ events: SseEvent[]; ended: boolean }> {
  const body = response.body;
  if (!body) throw new Error('no body');
  const reader = body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no end of stream: ${JSON.stringify(events)}`)),
      options.timeoutMs ?? 20_000,
    );
  });
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), timeout]);
      if (done) return { events, ended: true };
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: SseEvent = { event: 'message', data: '' };
        for (const line of block.split('\n')) {
          const colon = line.indexOf(':');
          const key = line.slice(0, colon);
          const value = line.slice(colon + 1).replace(/^ /, '');
          if (key === 'event') event.event = value;
          else if (key === 'data') event.data += value;
          else if (key === 'id') event.id = value;
          else if (key === 'retry') event.retry = Number(value);
        }
        events.push(event);
        if (options.until?.(event)) {
          await reader.cancel();
          return { events, ended: false };
        }
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

interface ProgressData {
  jobId: string;
  phase: string;
  rows: { total: number; done: number };
}

describe('GET /jobs/:id/events', () => {
  it('streams progress events until a done event with the finished job, then ends', async () => {
    const { upload } = await smallSurvey(api, 150);
    const { jobId } = await startJob(api, surveyJob(upload));
    const response = await api.request(`/jobs/${jobId}/events`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const { events, ended } = await readEvents(response);
    expect(ended).toBe(true);

    const progress = events.filter((e) => e.event === 'progress');
    const last = events.at(-1);
    expect(events.slice(0, -1)).toEqual(progress);
    expect(last?.event).toBe('done');
    // Several progress events while the job ran, each the workflow's progress, never going backwards.
    expect(progress.length).toBeGreaterThanOrEqual(3);
    const views = progress.map((e) => JSON.parse(e.data) as ProgressData);
    expect(views.every((v) => v.jobId === jobId)).toBe(true);
    // Before the sheet is read the job has no rows; after, all 150.
    expect(views.filter((v) => v.phase !== 'preparing').every((v) => v.rows.total === 150)).toBe(true);
    expect(views.some((v) => v.phase === 'classifying' && v.rows.done < 150)).toBe(true);
    const done = views.map((v) => v.rows.done);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    // Event ids count up, so a reconnecting browser can say where it was.
    expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1));

    const final = JSON.parse(last?.data ?? '{}') as JobView;
    expect(final).toMatchObject({
      jobId,
      status: 'COMPLETED',
      progress: { phase: 'done', rows: { total: 150, done: 150 } },
    });
    expect(final.stats).not.toBeNull();
    expect(api.sse.open).toBe(0);
  });

  it('ends at once for a job that has finished', async () => {
    const { upload } = await smallSurvey(api, 20);
    const { jobId } = await startJob(api, surveyJob(upload));
    await waitForJob(api, jobId);
    const { events, ended } = await readEvents(await api.request(`/jobs/${jobId}/events`), {
      timeoutMs: 5_000,
    });
    expect(ended).toBe(true);
    expect(events.map((e) => e.event)).toEqual(['progress', 'done']);
    expect(JSON.parse(events[1]?.data ?? '{}')).toMatchObject({ status: 'COMPLETED' });
  });

  it('ends with done when the job is cancelled', async () => {
    const { upload } = await smallSurvey(api, 150);
    const { jobId } = await startJob(api, surveyJob(upload));
    // Paused, so that it is still running when cancelled.
    expect((await api.request(`/jobs/${jobId}`, patch({ paused: true }))).status).toBe(200);
    const response = await api.request(`/jobs/${jobId}/events`);
    const reading = readEvents(response);
    await waitForJob(api, jobId, (j) => j.progress?.phase === 'classifying');
    expect((await api.request(`/jobs/${jobId}/cancel`, { method: 'POST' })).status).toBe(202);
    const { events, ended } = await reading;
    expect(ended).toBe(true);
    expect(events.at(-1)?.event).toBe('done');
    expect(JSON.parse(events.at(-1)?.data ?? '{}')).toMatchObject({
      status: 'CANCELLED',
      progress: { phase: 'cancelled' },
    });
  });

  it('tells the browser to come back when the server shuts down', async () => {
    const shutdown = new AbortController();
    const app = api.makeApp({ shutdown: shutdown.signal });
    const { upload } = await smallSurvey(api, 150);
    const { jobId } = await startJob(api, surveyJob(upload));
    expect((await api.request(`/jobs/${jobId}`, patch({ paused: true }))).status).toBe(200);
    const response = await app.request(`/jobs/${jobId}/events`);
    const reading = readEvents(response, { timeoutMs: 5_000 });
    await sleep(200);
    expect(api.sse.open).toBe(1);
    shutdown.abort();
    const { events, ended } = await reading;
    expect(ended).toBe(true);
    expect(events.filter((e) => e.event === 'progress').length).toBeGreaterThan(0);
    expect(events.at(-1)).toMatchObject({ event: 'shutdown', retry: 2_000 });
    expect(api.sse.open).toBe(0);
    // The job itself goes on.
    expect((await api.request(`/jobs/${jobId}`, patch({ paused: false }))).status).toBe(200);
    expect((await waitForJob(api, jobId)).status).toBe('COMPLETED');
  });
});

describe('what operators see in Temporal', () => {
  /** Workflow ids a visibility query finds, once visibility has caught up with `expected`. */
  async function findIds(query: string, expected: string[]): Promise<string[]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ids: string[] = [];
      for await (const w of api.h.env.client.workflow.list({ query })) ids.push(w.workflowId);
      if (JSON.stringify(ids.sort()) === JSON.stringify([...expected].sort()) || Date.now() > deadline)
        return ids;
      await sleep(50);
    }
  }

  it('search attributes follow the job, so `temporal workflow list --query` finds it by file, column, rows, phase and fallbacks', async () => {
    const { upload } = await smallSurvey(api, 120, 'watched-survey.xlsx');
    api.h.sim.configure({ latency: { meanMs: 100 } });
    const { jobId } = await startJob(api, surveyJob(upload));
    try {
      await waitForJob(api, jobId, (j) => (j.progress?.batches.done ?? 0) > 0);
      expect((await api.request(`/jobs/${jobId}`, patch({ paused: true }))).status).toBe(200);
      const classifying = await findIds(
        "VerbatimPhase = 'classifying' AND VerbatimFileName = 'watched-survey.xlsx' AND VerbatimRows = 120",
        [jobId],
      );
      expect(classifying).toEqual([jobId]);
    } finally {
      api.h.sim.configure({ latency: { meanMs: 30, jitterMs: 10 } });
      await api.request(`/jobs/${jobId}`, patch({ paused: false }));
    }
    await waitForJob(api, jobId);
    expect(
      await findIds(
        "VerbatimPhase = 'done' AND VerbatimFileName = 'watched-survey.xlsx' AND VerbatimColumn = 'E2' AND VerbatimFallbacks = 0",
        [jobId],
      ),
    ).toEqual([jobId]);
    expect(
      await findIds("VerbatimPhase = 'classifying' AND VerbatimFileName = 'watched-survey.xlsx'", []),
    ).toEqual([]);
  });

  it('counts fallback batches in VerbatimFallbacks', async () => {
    const { upload } = await smallSurvey(api, 30, 'poisoned.xlsx');
    api.h.sim.configure({ faults: [{ kind: 'refusal', match: '#7' }] });
    try {
      const { jobId } = await startJob(api, surveyJob(upload));
      expect((await waitForJob(api, jobId)).status).toBe('COMPLETED');
      expect(
        await findIds(
          "VerbatimFileName = 'poisoned.xlsx' AND VerbatimFallbacks = 1 AND VerbatimPhase = 'done'",
          [jobId],
        ),
      ).toEqual([jobId]);
    } finally {
      api.h.sim.configure({ faults: [] });
    }
  });

  it('the workflow summary names file and column; each batch activity its batch and rows', async () => {
    const { upload, rows } = await smallSurvey(api, 40, 'summarised.xlsx');
    const { jobId } = await startJob(api, surveyJob(upload, { sheet: 'Data' }));
    await waitForJob(api, jobId);
    const handle = api.h.env.client.workflow.getHandle(jobId);
    const description = await handle.describe();
    expect(await description.staticSummary()).toBe('Code summarised.xlsx · column E2 · sheet Data');

    const history = await handle.fetchHistory();
    const summaries: string[] = [];
    for (const event of history.events ?? []) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled?.activityType?.name !== 'classifyBatch') continue;
      const payload = event.userMetadata?.summary;
      expect(payload, 'a batch activity without a summary').toBeTruthy();
      summaries.push(defaultPayloadConverter.fromPayload<string>(payload as Payload));
    }
    // 40 distinct answers, 10 a batch: rows 3–12, 13–22, …
    expect(summaries.sort()).toEqual(
      [0, 1, 2, 3].map(
        (i) => `batch ${i + 1}/4 · rows ${rows[i * 10] ?? 0}–${rows[i * 10 + 9] ?? 0} (10 answers)`,
      ),
    );
  });
});
