/**
 * Batch API mode: the planned batches' requests written as JSONL, uploaded, run as OpenAI batches, and their
 * answers read back by `custom_id` and stored exactly as synchronous answers are (the same request body, the
 * same checks). Every step records what it did in the job's folder before it returns, so a retried or
 * re-run activity never uploads or creates twice what it already did.
 */
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import OpenAI, { toFile } from 'openai';
import type { BatchPartOutcome, BatchStatus } from '../domain/batch-api.js';
import { BATCH_FILE_LIMITS, cutFiles, customIdOf, indexOfCustomId } from '../domain/batch-api.js';
import type { TokenUsage } from '../domain/job.js';
import { codingMode } from '../domain/prompt.js';
import { ModelOutputError } from '../domain/validate.js';
import { SIMULATOR_HEADER } from '../simulator/protocol.js';
import { asksAloneAgain, codingRequest, logprobsOff, settleAnswer, wholeResult } from './classify.js';
import type { ActivityDeps } from './deps.js';
import { withHeartbeat } from './heartbeat.js';
import { labelRequestBody, mentionsLogprobs, readCompletion, toActivityFailure } from './llm.js';
import type { JobStore } from '../lib/store.js';
import type { LogprobsOff, SpanRecord, StoredBatch } from './stored.js';
import {
  LOGPROBS_OFF,
  loadJob,
  mapLimit,
  readBatch,
  recordLogprobsRefusals,
  recordLoneAsk,
  storePiece,
} from './stored.js';

export interface SubmitBatchRoundInput {
  readonly jobId: string;
  /** 1 for the first round. */
  readonly round: number;
  /** Lines per file below OpenAI's 50,000 (tests cut a small job into several batches with it). */
  readonly linesPerFile?: number;
}

export interface SubmittedRound {
  readonly round: number;
  readonly parts: ReadonlyArray<{ readonly part: number; readonly batchId: string; readonly lines: number }>;
  readonly lines: number;
}

/** A round's files, written and not yet sent, with the most each can cost in tokens (for the spending cap). */
export interface WrittenRound {
  readonly round: number;
  readonly parts: ReadonlyArray<{
    readonly part: number;
    readonly lines: number;
    /** Its lines' billed prompt tokens and output ceilings, summed. */
    readonly promptTokens: number;
    readonly maxTokens: number;
  }>;
  readonly lines: number;
}

export interface BatchPartRef {
  readonly jobId: string;
  readonly round: number;
  readonly part: number;
}

/** A batch as the workflow needs to see it. */
export interface BatchView {
  readonly id: string;
  readonly status: BatchStatus;
  readonly total: number;
  readonly completed: number;
  readonly failed: number;
  readonly error?: { readonly code: string; readonly message: string };
}

/** `batch-api/round-<n>.json`: a round's files and batches, written as each is made. */
interface RoundManifest {
  readonly round: number;
  readonly parts: Array<{
    readonly part: number;
    readonly indexes: readonly number[];
    fileId?: string;
    /** Every batch created for the file, the current one last (a full queue makes another later). */
    batchIds: string[];
  }>;
}

interface OutputLine {
  readonly custom_id: string;
  readonly response: { readonly status_code: number; readonly body: unknown } | null;
  readonly error: { readonly code: string; readonly message: string } | null;
}

const NO_USAGE: TokenUsage = { prompt: 0, completion: 0, cached: 0 };

export function batchApiActivities(deps: ActivityDeps) {
  const { store, llm } = deps;
  const dir = (jobId: string) => store.file(jobId, 'batch-api');
  const manifestFile = (jobId: string, round: number) => path.join(dir(jobId), `round-${round}.json`);
  const readManifest = async (jobId: string, round: number): Promise<RoundManifest> => {
    const manifest = await store.readJsonIfExists<RoundManifest>(manifestFile(jobId, round));
    if (!manifest) throw new Error(`round ${round} of ${jobId} was never submitted`);
    return manifest;
  };
  const partOf = (manifest: RoundManifest, part: number) => {
    const found = manifest.parts.find((p) => p.part === part);
    if (!found) throw new Error(`round ${manifest.round} has no part ${part}`);
    return found;
  };
  const failure = (error: unknown, part: number) =>
    toActivityFailure(error, { attempt: Context.current().info.attempt, batch: part });

  /**
   * A batch already made from `fileId` and not yet known (the worker died after `batches.create` and before
   * the manifest said so), so that it is adopted rather than created twice. Looks at the newest 100 batches.
   */
  async function madeFrom(fileId: string, known: readonly string[]): Promise<string | undefined> {
    const page = await llm.client.batches.list({ limit: 100 });
    return page.data.find((b) => b.input_file_id === fileId && !known.includes(b.id))?.id;
  }

  async function createBatch(jobId: string, round: number, entry: RoundManifest['parts'][number]) {
    const fileId = entry.fileId ?? '';
    const adopted = await madeFrom(fileId, entry.batchIds);
    const id =
      adopted ??
      (
        await llm.client.batches.create({
          input_file_id: fileId,
          endpoint: '/v1/chat/completions',
          completion_window: '24h',
          metadata: { verbatim_job: jobId, round: String(round), part: String(entry.part) },
        })
      ).id;
    entry.batchIds.push(id);
    return id;
  }

  /** Writes the round's JSONL files (one line per pending batch) and returns the manifest, not yet uploaded. */
  async function writeRound(jobId: string, round: number, linesPerFile: number): Promise<RoundManifest> {
    const job = await loadJob(store, jobId);
    const pending = await pendingIndexes(store, jobId, job.plan.batches, true);
    const logprobs = !(await logprobsOff(store, jobId));
    await fs.mkdir(dir(jobId), { recursive: true });
    // Lines are made a slice at a time and streamed to disk: a million answers never sit in memory at once.
    const sizes: number[] = [];
    const scratch = path.join(dir(jobId), `round-${round}.all.jsonl`);
    const out = createWriteStream(scratch);
    const SLICE = 256;
    for (let from = 0; from < pending.length; from += SLICE) {
      const slice = pending.slice(from, from + SLICE);
      const lines = await mapLimit(slice.length, 16, async (i) => {
        const index = slice[i] ?? 0;
        const batch = await readBatch(store, jobId, index);
        const request = { ...codingRequest(jobId, index, job, batch.items), logprobs };
        const body = labelRequestBody(request);
        return `${JSON.stringify({ custom_id: customIdOf(index), method: 'POST', url: '/v1/chat/completions', body })}\n`;
      });
      for (const line of lines) {
        sizes.push(Buffer.byteLength(line));
        if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      }
      Context.current().heartbeat();
    }
    out.end();
    await finished(out);
    const files = cutFiles(sizes, { lines: linesPerFile, bytes: BATCH_FILE_LIMITS.bytes });
    // Split the one file into the parts' files by byte offsets.
    const text = await fs.readFile(scratch);
    let offset = 0;
    const parts: RoundManifest['parts'] = [];
    for (const [p, [from, to]] of files.entries()) {
      const bytes = sizes.slice(from, to).reduce((sum, n) => sum + n, 0);
      await fs.writeFile(partFile(jobId, round, p), text.subarray(offset, offset + bytes));
      offset += bytes;
      parts.push({ part: p, indexes: pending.slice(from, to), batchIds: [] });
    }
    await fs.rm(scratch, { force: true });
    const manifest: RoundManifest = { round, parts };
    await store.writeJson(manifestFile(jobId, round), manifest);
    return manifest;
  }

  const partFile = (jobId: string, round: number, part: number) =>
    path.join(dir(jobId), `round-${round}-part-${part}.jsonl`);

  /** The round's manifest: as an earlier attempt wrote it, else its files written now. */
  const roundManifest = async (jobId: string, round: number, linesPerFile: number): Promise<RoundManifest> =>
    (await store.readJsonIfExists<RoundManifest>(manifestFile(jobId, round))) ??
    (await writeRound(jobId, round, Math.min(linesPerFile, BATCH_FILE_LIMITS.lines)));

  /** Uploads a part's file and creates its batch, each unless an earlier attempt did; the batch's id. */
  async function sendPart(
    jobId: string,
    round: number,
    manifest: RoundManifest,
    entry: RoundManifest['parts'][number],
  ) {
    try {
      if (!entry.fileId) {
        const name = `${jobId}-round-${round}-part-${entry.part}.jsonl`;
        const bytes = await fs.readFile(partFile(jobId, round, entry.part));
        // The SDK never retries an upload (maxRetries 0): Temporal's retry policy does.
        const file = await llm.client.files.create({ file: await toFile(bytes, name), purpose: 'batch' });
        entry.fileId = file.id;
        await store.writeJson(manifestFile(jobId, round), manifest);
      }
      if (entry.batchIds.length === 0) {
        await createBatch(jobId, round, entry);
        await store.writeJson(manifestFile(jobId, round), manifest);
      }
    } catch (error) {
      throw failure(error, entry.part);
    }
    return entry.batchIds.at(-1) ?? '';
  }

  return {
    /**
     * Sends a round: the pending batches' requests as JSONL files (at most 50,000 lines and 190 MB each),
     * each uploaded (purpose `batch`) and run as a batch (`/v1/chat/completions`, window `24h`). Resumes
     * where an earlier attempt stopped: files written, uploaded and batches created are not made again.
     */
    submitBatchRound: async ({
      jobId,
      round,
      linesPerFile = BATCH_FILE_LIMITS.lines,
    }: SubmitBatchRoundInput): Promise<SubmittedRound> =>
      withHeartbeat(async () => {
        const manifest = await roundManifest(jobId, round, linesPerFile);
        for (const entry of manifest.parts) await sendPart(jobId, round, manifest, entry);
        return {
          round,
          parts: manifest.parts.map((p) => ({
            part: p.part,
            batchId: p.batchIds.at(-1) ?? '',
            lines: p.indexes.length,
          })),
          lines: manifest.parts.reduce((sum, p) => sum + p.indexes.length, 0),
        };
      }),

    /**
     * Writes a round's files as `submitBatchRound` does, sending none, and says the most each can cost: the
     * workflow sends them one by one (`sendBatchPart`) while they fit under the job's cost cap. A round
     * written already is read back, so a retry or a later run sees the same files.
     */
    writeBatchRound: async ({
      jobId,
      round,
      linesPerFile = BATCH_FILE_LIMITS.lines,
    }: SubmitBatchRoundInput): Promise<WrittenRound> =>
      withHeartbeat(async () => {
        const manifest = await roundManifest(jobId, round, linesPerFile);
        const { plan } = await loadJob(store, jobId);
        const spans = await store.readJson<SpanRecord[]>(jobId, 'spans.json');
        // Plans from before the cap counted no tokens: the average request's, all priced as output (dearer).
        const average = Math.ceil(plan.estimatedTokens / Math.max(1, plan.batches));
        const parts = manifest.parts.map((p) => {
          let promptTokens = 0;
          let maxTokens = 0;
          for (const index of p.indexes) {
            const span = spans[index];
            const known = span?.[5] !== undefined && span[6] !== undefined;
            promptTokens += known ? (span[5] ?? 0) : 0;
            maxTokens += known ? (span[6] ?? 0) : average;
          }
          return { part: p.part, lines: p.indexes.length, promptTokens, maxTokens };
        });
        return { round, parts, lines: parts.reduce((sum, p) => sum + p.lines, 0) };
      }),

    /** Uploads one written file of a round and creates its batch (neither twice); the batch's id. */
    sendBatchPart: async ({ jobId, round, part }: BatchPartRef): Promise<string> =>
      withHeartbeat(async () => {
        const manifest = await readManifest(jobId, round);
        return sendPart(jobId, round, manifest, partOf(manifest, part));
      }),

    /** A part's batch failed for a full queue (`token_limit_exceeded`): the same file, a new batch. */
    resubmitBatchPart: async ({ jobId, round, part }: BatchPartRef): Promise<string> => {
      const manifest = await readManifest(jobId, round);
      const entry = partOf(manifest, part);
      try {
        const id = await createBatch(jobId, round, entry);
        await store.writeJson(manifestFile(jobId, round), manifest);
        return id;
      } catch (error) {
        throw failure(error, part);
      }
    },

    /** The state and request counts of each batch: one quick call each, the workflow waits in between. */
    checkBatches: async ({ batchIds }: { readonly batchIds: readonly string[] }): Promise<BatchView[]> => {
      try {
        return await Promise.all(
          batchIds.map(async (id) => {
            const batch = await llm.client.batches.retrieve(id);
            const first = batch.errors?.data?.[0];
            return {
              id,
              status: batch.status,
              total: batch.request_counts?.total ?? 0,
              completed: batch.request_counts?.completed ?? 0,
              failed: batch.request_counts?.failed ?? 0,
              ...(first ? { error: { code: first.code ?? 'failed', message: first.message ?? '' } } : {}),
            };
          }),
        );
      } catch (error) {
        throw failure(error, 0);
      }
    },

    /**
     * Reads an ended batch's output and error files and stores what they answered, mapped back by
     * `custom_id` (their order is not the input's) and checked as a synchronous answer is: a valid answer is
     * the batch's result; a partly wrong one its salvage's first piece (only the bad answers are asked again),
     * or, for a batch of one answer, asked again while `asksAloneAgain` allows (then it falls back, with its
     * reason); anything else (an error line, an unusable answer, a line an expired or cancelled batch never
     * ran) is counted to be asked again, by reason. The counts follow from the files (and the rounds recorded
     * against an answer asked alone), so a retry counts the same.
     */
    collectBatchPart: async ({ jobId, round, part }: BatchPartRef): Promise<BatchPartOutcome> =>
      withHeartbeat(async () => {
        const entry = partOf(await readManifest(jobId, round), part);
        const batchId = entry.batchIds.at(-1) ?? '';
        const job = await loadJob(store, jobId);
        const { options, categories } = job.spec;
        const mode = codingMode(options);
        let lines: Map<number, OutputLine>;
        let simulated = false;
        let failedWith: string | undefined;
        try {
          const { data: batch, response } = await llm.client.batches.retrieve(batchId).withResponse();
          simulated = response.headers.get(SIMULATOR_HEADER) === '1';
          if (batch.status === 'failed') failedWith = batch.errors?.data?.[0]?.code ?? 'failed';
          lines = new Map([
            ...(await readLines(llm.client, batch.output_file_id)),
            ...(await readLines(llm.client, batch.error_file_id)),
          ]);
        } catch (error) {
          throw failure(error, part);
        }
        const reasons: Record<string, number> = {};
        const retry = (reason: string) => (reasons[reason] = (reasons[reason] ?? 0) + 1);
        let usage = NO_USAGE;
        let coded = 0;
        let rowsCoded = 0;
        let salvage = 0;
        let answered = 0;
        let cut = 0;
        let refusedLogprobs = 0;
        await mapLimit(entry.indexes.length, 16, async (i) => {
          const index = entry.indexes[i] ?? 0;
          const line = lines.get(index);
          if (!line) return retry(failedWith ?? 'no_answer');
          if (line.error) return retry(line.error.code);
          const status = line.response?.status_code ?? 0;
          if (status !== 200) {
            if (status === 400 && isLogprobsRefusal(line.response?.body)) {
              refusedLogprobs += 1;
              await markLogprobsOff(jobId, index);
            }
            return retry(status >= 500 ? 'server_error' : `HTTP${status}`);
          }
          answered += 1;
          const completion = line.response?.body as OpenAI.ChatCompletion;
          usage = add(usage, readUsage(completion));
          try {
            const reading = readCompletion(completion);
            const batch: StoredBatch = await readBatch(store, jobId, index);
            const settled = settleAnswer(reading, batch.items, categories, mode);
            if (settled.whole) {
              const answer = { usage: reading.usage, latencyMs: 0, simulated };
              const result = wholeResult(batch, settled, answer, 0, options.model, deps.identity);
              await store.writeJsonOnce(store.resultFile(jobId, index), { ...result, batchApi: batchId });
              coded += 1;
              rowsCoded += batch.rows;
              cut += settled.check.cut.length;
              return;
            }
            if (batch.items.length === 1) {
              // Its one answer asked alone, and wrong: asked again (in another round, or directly) under the
              // rule synchronous salvage follows for an answer asked alone, each line one of its asks.
              const asked = await recordLoneAsk(store, jobId, index, round);
              if (asksAloneAgain(asked, options)) return retry('LoneAnswerError');
            }
            // Attempt 0 and no usage: the line is counted here, and the salvage must not count it again.
            await storePiece(store, jobId, {
              ...settled.piece,
              index,
              usage: NO_USAGE,
              latencyMs: 0,
              attempt: 0,
              model: options.model,
              ...(simulated ? { simulated: true as const } : {}),
              ...(settled.cut ? { cut: settled.cut } : {}),
            });
            salvage += 1;
          } catch (error) {
            if (!(error instanceof ModelOutputError)) throw error;
            retry(`ModelOutputError: ${error.problem}`);
          }
        });
        // Every line of the part asked for them: each refusal is a request (named by the part, so a
        // collect run again counts it once).
        if (refusedLogprobs > 0)
          await recordLogprobsRefusals(store, jobId, `batch-${round}-${part}`, refusedLogprobs);
        const retried = Object.values(reasons).reduce((sum, n) => sum + n, 0);
        return {
          part,
          lines: entry.indexes.length,
          coded,
          rowsCoded,
          salvage,
          retry: retried,
          usage,
          answered,
          reasons,
          ...(simulated ? { simulated: true } : {}),
          ...(cut > 0 ? { cut } : {}),
        };
      }),

    /** Cancels the batches still running (one already ended is left as it is). */
    cancelBatches: async ({ batchIds }: { readonly batchIds: readonly string[] }): Promise<string[]> =>
      Promise.all(
        batchIds.map(async (id) => {
          try {
            return (await llm.client.batches.cancel(id)).status;
          } catch (error) {
            // 409: it had ended meanwhile; 404: never made. Neither needs cancelling.
            if (error instanceof OpenAI.ConflictError || error instanceof OpenAI.NotFoundError)
              return 'ended';
            throw failure(error, 0);
          }
        }),
      ),
  };

  async function markLogprobsOff(jobId: string, index: number): Promise<void> {
    const off: LogprobsOff = { reason: 'the model refused logprobs in a batch line', batch: index };
    await store.writeJsonOnce(store.file(jobId, LOGPROBS_OFF), off);
  }
}

/** The file side of Batch API mode, on the main task queue. */
export function batchApiFileActivities({ store }: ActivityDeps) {
  return {
    /**
     * The synchronous stage of a Batch API job: up to `count` batches still without a result, from `from` on,
     * and where the next page starts.
     */
    pendingBatches: async ({
      jobId,
      from,
      count,
    }: {
      readonly jobId: string;
      readonly from: number;
      readonly count: number;
    }): Promise<{ indexes: number[]; next: number }> => {
      const { plan } = await loadJob(store, jobId);
      const pending = (await pendingIndexes(store, jobId, plan.batches, false)).filter((i) => i >= from);
      const indexes = pending.slice(0, count);
      return { indexes, next: indexes.length < count ? plan.batches : (indexes.at(-1) ?? from) + 1 };
    },
  };
}

/**
 * Planned batches with no stored result, in order. `forBatch`: those whose answer came back partly wrong
 * (a first piece stored) are left out: only their bad answers are asked again, synchronously.
 */
async function pendingIndexes(
  store: JobStore,
  jobId: string,
  batches: number,
  forBatch: boolean,
): Promise<number[]> {
  const names = async (sub: string, keep: (name: string) => boolean) =>
    new Set(
      (await fs.readdir(store.file(jobId, sub)).catch(() => [] as string[]))
        .filter(keep)
        .map((n) => Number.parseInt(n, 10)),
    );
  // Result files only: a file being written has another name until it is complete.
  const results = await names('results', (n) => n.endsWith('.json'));
  const salvaging = forBatch ? await names('pieces', () => true) : new Set<number>();
  const pending: number[] = [];
  for (let i = 0; i < batches; i += 1) if (!results.has(i) && !salvaging.has(i)) pending.push(i);
  return pending;
}

async function readLines(client: OpenAI, fileId: string | null | undefined): Promise<[number, OutputLine][]> {
  if (!fileId) return [];
  const text = await (await client.files.content(fileId)).text();
  const lines: [number, OutputLine][] = [];
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    const line = JSON.parse(raw) as OutputLine;
    const index = indexOfCustomId(line.custom_id);
    if (index !== undefined) lines.push([index, line]);
  }
  return lines;
}

function isLogprobsRefusal(body: unknown): boolean {
  const error = (body as { error?: { message?: string; param?: string | null } } | undefined)?.error;
  return error !== undefined && mentionsLogprobs(error);
}

function readUsage(completion: OpenAI.ChatCompletion | undefined): TokenUsage {
  return {
    prompt: completion?.usage?.prompt_tokens ?? 0,
    completion: completion?.usage?.completion_tokens ?? 0,
    cached: completion?.usage?.prompt_tokens_details?.cached_tokens ?? 0,
  };
}

function add(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    prompt: a.prompt + b.prompt,
    completion: a.completion + b.completion,
    cached: a.cached + b.cached,
  };
}
