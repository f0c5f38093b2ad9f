import OpenAI, { AuthenticationError, BadRequestError, ConflictError, NotFoundError, toFile } from 'openai';
import type { Batch } from 'openai/resources/batches';
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
} from 'openai/resources/chat/completions';
import type { FileObject } from 'openai/resources/files';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PromptItem } from '../../domain/prompt.js';
import { validateLabels } from '../../domain/validate.js';
import type { Simulator, SimulatorOptions } from '../../simulator/index.js';
import { startSimulator } from '../../simulator/index.js';
import { CATEGORIES, ITEMS, codingRequest, promptTokensOf, rejectionOf } from './helpers.js';

let sim: Simulator | undefined;
afterEach(() => sim?.close());

/** A simulated day in 86.4 s: validating and finalizing take 5 ms, a line 0.1 ms, unless a test says otherwise. */
const FAST = 0.001;

async function start(options: SimulatorOptions = {}): Promise<{ sim: Simulator; client: OpenAI }> {
  sim = await startSimulator({ timeScale: FAST, ...options });
  return { sim, client: new OpenAI({ apiKey: 'x', baseURL: sim.baseURL, maxRetries: 0, timeout: 10_000 }) };
}

interface Line {
  custom_id: string;
  method?: string;
  url?: string;
  body: unknown;
}

/** One line per answer, each its own request, as verbatim's Batch mode will write them. */
function codingLines(items: readonly PromptItem[] = ITEMS, prefix = 'row'): Line[] {
  return items.map((item, i) => ({ custom_id: `${prefix}-${i}`, body: codingRequest([item]) }));
}

async function upload(client: OpenAI, lines: readonly Line[] | string): Promise<FileObject> {
  const text =
    typeof lines === 'string'
      ? lines
      : lines
          .map((line) => JSON.stringify({ method: 'POST', url: '/v1/chat/completions', ...line }))
          .join('\n');
  return client.files.create({ file: await toFile(Buffer.from(text), 'batch.jsonl'), purpose: 'batch' });
}

async function createBatch(client: OpenAI, lines: readonly Line[] | string): Promise<Batch> {
  const file = await upload(client, lines);
  return client.batches.create({
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
  });
}

/** Polls until `done` holds for the batch (no timing asserted: the test's timeout is the only clock). */
async function pollUntil(client: OpenAI, id: string, done: (batch: Batch) => boolean): Promise<Batch> {
  return vi.waitFor(
    async () => {
      const batch = await client.batches.retrieve(id);
      if (!done(batch)) throw new Error(`still ${batch.status}: ${JSON.stringify(batch.request_counts)}`);
      return batch;
    },
    { timeout: 20_000, interval: 10 },
  );
}

const FINAL = ['completed', 'failed', 'expired', 'cancelled'];
const settled = (client: OpenAI, id: string) => pollUntil(client, id, (b) => FINAL.includes(b.status));

interface ResultLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: { code: string; message: string } | null;
}

async function readLines(client: OpenAI, fileId: string | null | undefined): Promise<ResultLine[]> {
  if (fileId === null || fileId === undefined) return [];
  const text = await (await client.files.content(fileId)).text();
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ResultLine);
}

function byCustomId(lines: readonly ResultLine[]): Map<string, ResultLine> {
  return new Map(lines.map((line) => [line.custom_id, line]));
}

describe('a batch, through the openai client', () => {
  it('uploads, validates, runs and completes; output lines in shuffled order answer as the sync endpoint does', async () => {
    const { sim, client } = await start();
    const items = [...ITEMS, ...ITEMS.map((item) => ({ ...item, text: `${item.text} again` }))];
    const lines = codingLines(items);

    const file = await upload(client, lines);
    expect(file).toMatchObject({
      id: expect.stringMatching(/^file-/) as unknown,
      object: 'file',
      filename: 'batch.jsonl',
      purpose: 'batch',
      status: 'processed',
      created_at: expect.any(Number) as unknown,
    });
    expect(await client.files.retrieve(file.id)).toEqual(file);

    const { data: created, response } = await client.batches
      .create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        metadata: { job: 'job-1', part: '0' },
      })
      .withResponse();
    expect(response.headers.get('x-verbatim-simulator')).toBe('1');
    expect(created).toMatchObject({
      id: expect.stringMatching(/^batch_/) as unknown,
      object: 'batch',
      endpoint: '/v1/chat/completions',
      input_file_id: file.id,
      completion_window: '24h',
      status: 'validating',
      output_file_id: null,
      error_file_id: null,
      errors: null,
      in_progress_at: null,
      request_counts: { total: 0, completed: 0, failed: 0 },
      metadata: { job: 'job-1', part: '0' },
    });
    // A (scaled) day: 86.4 s at this time scale.
    expect((created.expires_at ?? 0) - created.created_at).toBeGreaterThanOrEqual(86);
    expect((created.expires_at ?? 0) - created.created_at).toBeLessThanOrEqual(87);

    const batch = await settled(client, created.id);
    expect(batch).toMatchObject({
      status: 'completed',
      model: 'gpt-4o-mini',
      request_counts: { total: lines.length, completed: lines.length, failed: 0 },
      error_file_id: null,
      failed_at: null,
      expired_at: null,
    });
    const times = [batch.created_at, batch.in_progress_at, batch.finalizing_at, batch.completed_at];
    for (const time of times) expect(time).toEqual(expect.any(Number));
    expect(times).toEqual([...(times as number[])].sort((a, b) => a - b));
    expect(await client.files.retrieve(batch.output_file_id ?? '')).toMatchObject({
      purpose: 'batch_output',
    });

    const output = await readLines(client, batch.output_file_id);
    expect(output).toHaveLength(lines.length);
    expect(output.map((line) => line.custom_id)).not.toEqual(lines.map((line) => line.custom_id));
    const results = byCustomId(output);
    let usage = { input: 0, output: 0 };
    for (const [i, line] of lines.entries()) {
      const result = results.get(line.custom_id);
      expect(result).toMatchObject({
        id: expect.stringMatching(/^batch_req_/) as unknown,
        response: { status_code: 200, request_id: expect.any(String) as unknown },
        error: null,
      });
      const body = result?.response?.body as ChatCompletion;
      const sync = await client.chat.completions.create(line.body as ChatCompletionCreateParamsNonStreaming);
      expect(body).toMatchObject({ object: 'chat.completion', model: 'gpt-4o-mini' });
      expect(body.choices).toEqual(sync.choices);
      expect(body.usage).toEqual(sync.usage);
      const item = items[i] as PromptItem;
      expect(validateLabels(body.choices[0]?.message.content, [item], CATEGORIES).labels.size).toBe(1);
      usage = {
        input: usage.input + (body.usage?.prompt_tokens ?? 0),
        output: usage.output + (body.usage?.completion_tokens ?? 0),
      };
    }
    expect(batch.usage).toMatchObject({
      input_tokens: usage.input,
      output_tokens: usage.output,
      total_tokens: usage.input + usage.output,
      input_tokens_details: { cached_tokens: 0 },
    });

    const stats = sim.stats();
    expect(stats.requests).toBe(lines.length); // only the sync comparisons: batch lines are counted apart
    expect(stats.batch).toMatchObject({
      filesCreated: 1,
      batchesCreated: 1,
      byStatus: { completed: 1 },
      linesProcessed: lines.length,
      lines: { '200': lines.length },
      answered: lines.length,
      answersLabelled: lines.length,
      promptTokens: usage.input,
      completionTokens: usage.output,
      bySettings: { 'gpt-4o-mini @ default': lines.length },
      enqueuedTokens: lines.reduce((sum, line) => {
        const body = line.body as ChatCompletionCreateParamsNonStreaming;
        return sum + promptTokensOf(body) + (body.max_completion_tokens ?? 0);
      }, 0),
    });
  });

  it('shows in_progress with request_counts.completed growing, untouched by the sync RPM', async () => {
    // 100 ms a line; an rpm of 1 would stop the second of these lines if batch lines went through it.
    const { client } = await start({ rpm: 1, batch: { lineMs: 100_000 } });
    const lines = codingLines([...ITEMS, ...ITEMS]);
    const created = await createBatch(client, lines);
    const seen: number[] = [];
    await pollUntil(client, created.id, (batch) => {
      if (batch.status === 'in_progress') seen.push(batch.request_counts?.completed ?? -1);
      return FINAL.includes(batch.status);
    });
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.some((n) => n > 0 && n < lines.length)).toBe(true);
    const batch = await client.batches.retrieve(created.id);
    expect(batch).toMatchObject({ status: 'completed', request_counts: { completed: lines.length } });
  });
});

describe('line failures', () => {
  it('puts 500s and bad bodies in the error file (error null, the error in response.body) and spoils output lines', async () => {
    const { sim, client } = await start({
      batch: {
        faults: [
          { kind: 'server_error', match: 'rude' },
          { kind: 'malformed_json', match: 'quality' },
        ],
      },
    });
    const lines: Line[] = [
      ...codingLines(),
      { custom_id: 'no-messages', body: { model: 'gpt-4o-mini', messages: [] } },
    ];
    const batch = await settled(client, (await createBatch(client, lines)).id);
    expect(batch).toMatchObject({
      status: 'completed',
      request_counts: { total: 5, completed: 3, failed: 2 },
    });

    const errors = byCustomId(await readLines(client, batch.error_file_id));
    expect([...errors.keys()].sort()).toEqual(['no-messages', 'row-1']);
    expect(errors.get('row-1')).toMatchObject({
      response: { status_code: 500, body: { error: { type: 'server_error', code: null } } },
      error: null,
    });
    expect(errors.get('no-messages')).toMatchObject({
      response: { status_code: 400, body: { error: { type: 'invalid_request_error', param: 'messages' } } },
      error: null,
    });

    const output = byCustomId(await readLines(client, batch.output_file_id));
    expect([...output.keys()].sort()).toEqual(['row-0', 'row-2', 'row-3']);
    const spoiled = output.get('row-2')?.response?.body as ChatCompletion;
    expect(() => JSON.parse(spoiled.choices[0]?.message.content ?? '') as unknown).toThrow();
    expect(sim.stats().batch).toMatchObject({
      linesProcessed: 5,
      lines: { '200': 3, '400': 1, '500': 1 },
      faults: { server_error: 1, malformed_json: 1 },
      answered: 2,
    });
  });

  it('ends completed with output_file_id null when every line failed', async () => {
    const { client } = await start({ batch: { faults: [{ kind: 'server_error' }] } });
    const batch = await settled(client, (await createBatch(client, codingLines())).id);
    expect(batch).toMatchObject({
      status: 'completed',
      output_file_id: null,
      error_file_id: expect.stringMatching(/^file-/) as unknown,
      request_counts: { total: ITEMS.length, completed: 0, failed: ITEMS.length },
    });
    expect(await readLines(client, batch.error_file_id)).toHaveLength(ITEMS.length);
  });
});

describe('expiry', () => {
  it('expire: the next batch expires with part of its lines in the output, the rest batch_expired', async () => {
    const { sim, client } = await start({ batch: { expire: { count: 1 } } });
    const lines = codingLines([...ITEMS, ...ITEMS]);
    const batch = await settled(client, (await createBatch(client, lines)).id);
    expect(batch).toMatchObject({
      status: 'expired',
      request_counts: { total: 8, completed: 4, failed: 0 },
      completed_at: null,
    });
    expect(batch.expired_at).toEqual(expect.any(Number));

    const output = await readLines(client, batch.output_file_id);
    const expired = await readLines(client, batch.error_file_id);
    expect(output).toHaveLength(4);
    expect(expired).toHaveLength(4);
    for (const line of expired) {
      expect(line).toMatchObject({
        response: null,
        error: {
          code: 'batch_expired',
          message: 'This request could not be executed before the completion window expired.',
        },
      });
    }
    const ids = [...output, ...expired].map((line) => line.custom_id).sort();
    expect(ids).toEqual(lines.map((line) => line.custom_id).sort());

    // Only the next one: the batch after it completes.
    const next = await settled(client, (await createBatch(client, lines)).id);
    expect(next.status).toBe('completed');
    expect(sim.stats().batch).toMatchObject({
      byStatus: { expired: 1, completed: 1 },
      lines: { '200': 12, batch_expired: 4 },
      linesProcessed: 12,
    });
  });

  it('expires a batch not done within completionWindowMs', async () => {
    // 5 ms validating, then a line every 50 ms; the window closes at 130 ms, after two lines.
    const { client } = await start({ batch: { lineMs: 50_000, completionWindowMs: 130_000 } });
    const batch = await settled(client, (await createBatch(client, codingLines())).id);
    expect(batch).toMatchObject({ status: 'expired', request_counts: { total: 4, completed: 2, failed: 0 } });
    expect(await readLines(client, batch.error_file_id)).toHaveLength(2);
  });
});

describe('validation', () => {
  const valid = codingLines();

  it.each<[string, Line[] | string, { code: string; line: number | null; param: string | null }[]]>([
    [
      'a duplicate custom_id',
      [...valid, { custom_id: 'row-1', body: codingRequest() }],
      [{ code: 'duplicate_custom_id', line: 5, param: 'custom_id' }],
    ],
    [
      'more than one model',
      [valid[0] as Line, { custom_id: 'other', body: { ...codingRequest(), model: 'gpt-4.1-mini' } }],
      [{ code: 'model_mismatch', line: 2, param: 'body.model' }],
    ],
    [
      'a url other than the endpoint',
      [...valid.slice(0, 2), { custom_id: 'emb', url: '/v1/embeddings', body: codingRequest() }],
      [{ code: 'url_mismatch', line: 3, param: 'url' }],
    ],
    ['an empty file', '\n', [{ code: 'empty_file', line: null, param: null }]],
    [
      'a line that is not JSON, and one without custom_id',
      `${JSON.stringify({ ...valid[0], method: 'POST', url: '/v1/chat/completions' })}\n{"custom_id":\n{"body":{}}\n`,
      [
        { code: 'invalid_json_line', line: 2, param: null },
        { code: 'missing_required_parameter', line: 3, param: 'custom_id' },
      ],
    ],
    ['more than 50,000 lines', '{}\n'.repeat(50_001), [{ code: 'too_many_tasks', line: null, param: null }]],
  ])('fails a batch with %s, naming the line in errors.data', async (_, lines, expected) => {
    const { sim, client } = await start();
    const batch = await settled(client, (await createBatch(client, lines)).id);
    expect(batch).toMatchObject({
      status: 'failed',
      output_file_id: null,
      error_file_id: null,
      in_progress_at: null,
      request_counts: { total: 0, completed: 0, failed: 0 },
    });
    expect(batch.failed_at).toEqual(expect.any(Number));
    expect(batch.errors?.data?.map(({ code, line, param }) => ({ code, line, param }))).toEqual(expected);
    for (const error of batch.errors?.data ?? []) expect(error.message).toEqual(expect.any(String));
    expect(sim.stats().batch).toMatchObject({ byStatus: { failed: 1 }, linesProcessed: 0 });
  });
});

describe('the enqueued token limit', () => {
  it('fails a batch that would pass it with token_limit_exceeded, and takes one once the queue has room', async () => {
    const lines = codingLines();
    const charge = lines.reduce((sum, line) => {
      const body = line.body as ChatCompletionCreateParamsNonStreaming;
      return sum + promptTokensOf(body) + (body.max_completion_tokens ?? 0);
    }, 0);
    const limit = Math.ceil(charge * 1.5);
    // The first batch runs for a second, long enough to be in the queue when the next ones are validated.
    const { client } = await start({ batch: { enqueuedTokenLimit: limit, lineMs: 250_000 } });

    const first = await createBatch(client, lines);
    await pollUntil(client, first.id, (b) => b.status === 'in_progress');
    const refused = await settled(client, (await createBatch(client, lines)).id);
    expect(refused.status).toBe('failed');
    expect(refused.errors?.data).toEqual([
      {
        code: 'token_limit_exceeded',
        line: null,
        param: null,
        message:
          `Enqueued token limit reached for gpt-4o-mini in organization org-sim. Limit: ` +
          `${limit.toLocaleString('en-US')} enqueued tokens. Please try submitting fewer tasks or try again ` +
          'once some in_progress batches have been completed.',
      },
    ]);
    // The limit is per model: another model's batch still fits.
    const otherModel = lines.map((line) => ({
      ...line,
      body: { ...(line.body as object), model: 'gpt-4.1-mini' },
    }));
    const other = await createBatch(client, otherModel);
    expect((await pollUntil(client, other.id, (b) => b.status !== 'validating')).status).not.toBe('failed');

    expect((await settled(client, first.id)).status).toBe('completed');
    const retried = await settled(client, (await createBatch(client, lines)).id);
    expect(retried.status).toBe('completed');
  });
});

describe('cancel', () => {
  it('goes cancelling, then cancelled with the lines done so far; the rest batch_cancelled', async () => {
    const { sim, client } = await start({ batch: { lineMs: 200_000, cancellingMs: 100_000 } });
    const lines = codingLines([...ITEMS, ...ITEMS]);
    const created = await createBatch(client, lines);
    await pollUntil(client, created.id, (b) => (b.request_counts?.completed ?? 0) >= 1);

    const cancelling = await client.batches.cancel(created.id);
    expect(cancelling).toMatchObject({ status: 'cancelling', cancelled_at: null });
    expect(cancelling.cancelling_at).toEqual(expect.any(Number));
    const done = cancelling.request_counts?.completed ?? 0;
    expect(done).toBeGreaterThanOrEqual(1);
    expect(done).toBeLessThan(lines.length);

    const batch = await settled(client, created.id);
    expect(batch).toMatchObject({
      status: 'cancelled',
      request_counts: { total: lines.length, completed: done, failed: 0 },
    });
    expect(batch.cancelled_at).toBeGreaterThanOrEqual(batch.cancelling_at ?? Infinity);
    expect(await readLines(client, batch.output_file_id)).toHaveLength(done);
    const unrun = await readLines(client, batch.error_file_id);
    expect(unrun).toHaveLength(lines.length - done);
    for (const line of unrun)
      expect(line).toMatchObject({ response: null, error: { code: 'batch_cancelled' } });

    // Cancelling again changes nothing; a batch that has ended cannot be cancelled.
    expect(await client.batches.cancel(created.id)).toMatchObject({ status: 'cancelled' });
    const completed = await settled(client, (await createBatch(client, codingLines(ITEMS.slice(0, 1)))).id);
    const conflict = await rejectionOf(client.batches.cancel(completed.id));
    expect(conflict).toBeInstanceOf(ConflictError);
    expect((conflict as ConflictError).message).toContain("Cannot cancel a batch with status 'completed'.");
    expect(sim.stats().batch).toMatchObject({ cancels: 1, byStatus: { cancelled: 1, completed: 1 } });
  });

  it('cancels a batch still validating: cancelled with nothing run', async () => {
    const { client } = await start({ batch: { validatingMs: 10_000_000 } });
    const created = await createBatch(client, codingLines());
    expect((await client.batches.cancel(created.id)).status).toBe('cancelling');
    const batch = await settled(client, created.id);
    expect(batch).toMatchObject({
      status: 'cancelled',
      output_file_id: null,
      error_file_id: null,
      request_counts: { total: 0, completed: 0, failed: 0 },
    });
  });
});

describe('list', () => {
  it('pages newest first with after and limit; the client walks every page', async () => {
    const { sim, client } = await start({ batch: { validatingMs: 10_000_000 } });
    const file = await upload(client, codingLines());
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const params = {
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      } as const;
      ids.push((await client.batches.create(params)).id);
    }
    const newestFirst = [...ids].reverse();

    const first = await client.batches.list({ limit: 2 });
    expect(first.data.map((b) => b.id)).toEqual(newestFirst.slice(0, 2));
    expect(first.has_more).toBe(true);
    const second = await first.getNextPage();
    expect(second.data.map((b) => b.id)).toEqual(newestFirst.slice(2, 4));

    const all: string[] = [];
    for await (const batch of client.batches.list({ limit: 2 })) all.push(batch.id);
    expect(all).toEqual(newestFirst);

    const raw = (await (
      await fetch(`${sim.baseURL}/batches?limit=3&after=${newestFirst[0]}`)
    ).json()) as Record<string, unknown>;
    expect(raw).toMatchObject({
      object: 'list',
      first_id: newestFirst[1],
      last_id: newestFirst[3],
      has_more: true,
    });
    const last = await client.batches.list({ limit: 100, after: newestFirst[3] });
    expect(last.data.map((b) => b.id)).toEqual(newestFirst.slice(4));
    expect(last.has_more).toBe(false);
    for (const limit of [0, 101]) {
      expect(await rejectionOf(client.batches.list({ limit }))).toMatchObject({
        status: 400,
        param: 'limit',
      });
    }
  });
});

describe('files and errors', () => {
  it('deletes a file: then retrieve and content answer 404', async () => {
    const { sim, client } = await start();
    const file = await upload(client, codingLines());
    expect(await (await client.files.content(file.id)).text()).toContain('"custom_id":"row-0"');
    expect((await client.files.list()).data.map((f) => f.id)).toEqual([file.id]);
    expect(await client.files.delete(file.id)).toEqual({ id: file.id, object: 'file', deleted: true });

    const gone = await rejectionOf(client.files.content(file.id));
    expect(gone).toBeInstanceOf(NotFoundError);
    expect(gone).toMatchObject({ status: 404, type: 'invalid_request_error' });
    expect(await rejectionOf(client.files.retrieve(file.id))).toBeInstanceOf(NotFoundError);
    expect(await rejectionOf(client.files.delete(file.id))).toBeInstanceOf(NotFoundError);
    expect(sim.stats().batch).toMatchObject({ filesCreated: 1, filesDeleted: 1 });
  });

  it('answers OpenAI-style errors for bad uploads, bad batch parameters and unknown ids', async () => {
    const { client } = await start();
    const notJsonl = await rejectionOf(
      client.files.create({ file: await toFile(Buffer.from('{}'), 'batch.json'), purpose: 'batch' }),
    );
    expect(notJsonl).toBeInstanceOf(BadRequestError);
    expect((notJsonl as BadRequestError).message).toContain('Must be .jsonl');

    const file = await upload(client, codingLines());
    const params = {
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    } as const;
    const tooMuchMetadata = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    for (const [bad, param] of [
      [{ ...params, metadata: tooMuchMetadata }, 'metadata'],
      [{ ...params, metadata: { key: 'v'.repeat(513) } }, 'metadata'],
      [{ ...params, completion_window: '1h' }, 'completion_window'],
      [{ ...params, endpoint: '/v1/embeddings' }, 'endpoint'],
    ] as const) {
      const error = await rejectionOf(client.batches.create(bad as never));
      expect(error, param).toBeInstanceOf(BadRequestError);
      expect(error, param).toMatchObject({ param });
    }
    const noFile = await rejectionOf(client.batches.create({ ...params, input_file_id: 'file-nope' }));
    expect(noFile).toBeInstanceOf(NotFoundError);
    expect(await rejectionOf(client.batches.retrieve('batch_nope'))).toBeInstanceOf(NotFoundError);
    expect(await rejectionOf(client.batches.cancel('batch_nope'))).toBeInstanceOf(NotFoundError);
  });

  it('asks for the key when apiKey is set', async () => {
    const { sim } = await start({ apiKey: 'right' });
    const wrong = new OpenAI({ apiKey: 'wrong', baseURL: sim.baseURL, maxRetries: 0 });
    const error = await rejectionOf(upload(wrong, codingLines()));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ code: 'invalid_api_key' });
  });
});

describe('batch options', () => {
  it('are checked, from code and POST /_sim/config', async () => {
    await expect(startSimulator({ batch: { faults: [{ kind: 'hang' as never }] } })).rejects.toThrow(
      /batch\.faults\[0\]\.kind/,
    );
    const { sim } = await start();
    const config = (patch: unknown) =>
      fetch(`${sim.url}/_sim/config`, { method: 'POST', body: JSON.stringify(patch) });
    expect((await config({ batch: { expire: { count: 1, fraction: 1 } } })).status).toBe(400);
    expect((await config({ batch: { lineMs: -1 } })).status).toBe(400);
    expect((await config({ batch: { lineMs: 10, expire: { count: 2, fraction: 0.25 } } })).status).toBe(204);
  });
});
