/**
 * `npm run bench:codeframe`: codeframe drafting against the simulator over HTTP, through the real `openai`
 * client, a Temporal dev server and a `verbatim worker` process, on the original table's workbook (2,482
 * answers, bench/survey.ts) and on 10,000 answers carrying the simulator's themes, the latter also under a
 * token budget. Prints calls, tokens (and how often each answer read was sent), wall time, and recall,
 * duplicates and made-up codes against the simulator's themes; writes bench/results/<time>-codeframe.json.
 * Time is scaled as the coding bench's (1/5), with the latency growing with the output.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StoredChunk } from '../activities/codeframe-store.js';
import { chunkFile } from '../activities/codeframe-store.js';
import type { StoredBatch } from '../activities/stored.js';
import { codeframeSettings } from '../domain/codeframe-job.js';
import type { JobOptions } from '../domain/job.js';
import { isInvalidAnswer } from '../domain/text.js';
import { createCodeframeService } from '../jobs/codeframes.js';
import { inspectColumn } from '../sheets/index.js';
import type { SimulatorStats } from '../simulator/index.js';
import { THEME_CATALOGUE, generateThemedAnswers, themeOfAnswer, themeOfLabel } from '../simulator/themes.js';
import type { BuildCodeframeResult } from '../workflows/codeframe-definitions.js';
import { rateFloor } from './floor.js';
import type { Bench } from './harness.js';
import { ROOT, startBench, startWorker } from './harness.js';
import { ORIGINAL_ANSWERS, SCALE, SCALE_DIVISOR, SCALING } from './scenarios.js';
import { makeAnswers, writeSurvey } from './survey.js';

const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

/** 2 s ± 0.5 s, plus gpt-4o-mini-class output at ~70 tokens/s (14 ms a token), scaled like every duration. */
const LATENCY = { meanMs: 2_000 * SCALE, jitterMs: 500 * SCALE, perOutputTokenMs: 14 * SCALE };
/** The token budget of the third run, per scaled minute: the simulator enforces it, the worker paces to it. */
const TPM = 20_000;
const SLOTS = 5;

function options(): JobOptions {
  return {
    model: 'gpt-4o-mini',
    temperature: 0.1,
    batchSize: 10,
    batchTokenTarget: 3_000,
    parallel: true,
    maxWorkers: SLOTS,
    adaptiveWindow: true,
    minResponsesForParallel: 100,
    rateLimitDelayMs: SCALING.rateLimitDelayMs,
    retry: {
      maximumAttempts: 10,
      initialIntervalMs: SCALING.retryInitialMs,
      maximumIntervalMs: SCALING.retryMaxMs,
      heartbeatTimeoutMs: 15_000,
    },
  };
}

interface Figures {
  readonly name: string;
  readonly rows: number;
  readonly unique: number;
  readonly read: number;
  readonly sampled: boolean;
  readonly chunks: number;
  readonly calls: { extract: number; merge: number; measure: number; total: number };
  readonly simulatorRequests: number;
  readonly rateLimited: number;
  readonly tokens: { prompt: number; completion: number; total: number };
  /** Tokens (chars / 4) of the answers read, and of the answers sent in every request (extraction, measuring). */
  readonly answerTokens: { read: number; sent: number; ratio: number };
  readonly wallMs: number;
  readonly floorMs?: number;
  readonly codes: number;
  readonly folded: number;
  readonly coverage: number;
  /** Themes of 2 % or more among the answers, and those with a code. */
  readonly recall: { themes: number; found: number; missing: string[] };
  /** Codes for a theme that already has one, and codes for no theme at all. */
  readonly duplicates: number;
  readonly madeUp: string[];
}

async function draft(
  bench: Bench,
  name: string,
  file: string,
  answers: readonly string[],
  budget?: { tpm: number },
): Promise<Figures> {
  const taskQueue = `bench-cf-${name}-${randomBytes(3).toString('hex')}`;
  const windowMs = SCALING.budgetWindowMs;
  const worker = await startWorker(bench, {
    taskQueue,
    slots: SLOTS,
    rateLimitDelayMs: SCALING.rateLimitDelayMs,
    ...(budget ? { budget: { tpm: budget.tpm, windowMs } } : {}),
  });
  const service = createCodeframeService({
    client: bench.client,
    store: bench.store,
    taskQueue,
    searchAttributes: true,
    inspect: inspectColumn,
  });
  try {
    // Warm-up (not measured): the worker's code compiled, its tokenizer loaded.
    bench.sim.configure({ latency: { meanMs: 0 }, tpm: undefined, timeScale: 1, faults: [] });
    const warm = path.join(bench.dataDir, `warmup-${name}.xlsx`);
    await writeSurvey(
      warm,
      generateThemedAnswers(200, 99).map((a) => a.text),
    );
    const w = await service.create({
      fileName: 'warmup.xlsx',
      source: { path: warm },
      column: 'E2',
      options: options(),
      idFrom: 'random',
    });
    await w.handle.result();

    bench.sim.configure({
      latency: LATENCY,
      tpm: budget?.tpm,
      timeScale: SCALE,
      faults: [],
      themes: { spuriousRate: 0.3 },
    });
    if (budget) await sleep(windowMs);
    bench.sim.resetStats();
    const started = performance.now();
    const job = await service.create({
      fileName: path.basename(file),
      source: { path: file },
      column: 'E2',
      options: options(),
      idFrom: 'random',
    });
    const result = await job.handle.result();
    const wallMs = performance.now() - started;
    const sim = bench.sim.stats();
    return figures(bench, name, job.codeframeId, result, sim, answers, wallMs, budget);
  } finally {
    await worker.stop();
  }
}

async function figures(
  bench: Bench,
  name: string,
  id: string,
  r: BuildCodeframeResult,
  sim: SimulatorStats,
  answers: readonly string[],
  wallMs: number,
  budget: { tpm: number } | undefined,
): Promise<Figures> {
  const p = r.progress;
  const tokensOf = (text: string) => Math.ceil(text.length / 4);
  let read = 0;
  for (let i = 0; i < p.chunks.total; i += 1) {
    const chunk = JSON.parse(await fs.readFile(chunkFile(bench.store, id, i), 'utf8')) as StoredChunk;
    read += chunk.items.reduce((s, item) => s + tokensOf(item.text), 0);
  }
  let measured = 0;
  for (let i = 0; i < p.measure.batches; i += 1) {
    const batch = JSON.parse(await fs.readFile(bench.store.batchFile(id, i), 'utf8')) as StoredBatch;
    measured += batch.items.reduce((s, item) => s + tokensOf(item.text), 0);
  }
  // Each answer read is in exactly one extraction request; measuring sends its sample once more.
  const sent = read + measured;
  const valid = answers.filter((a) => a.trim() !== '' && !isInvalidAnswer(a));
  const counts = new Map<string, number>();
  for (const a of valid) {
    const key = themeOfAnswer(a)?.key;
    if (key) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const major = THEME_CATALOGUE.filter((t) => (counts.get(t.key) ?? 0) / valid.length >= 0.02);
  const codeThemes = r.codes.map((c) => themeOfLabel(c.label)?.key);
  const found = major.filter((t) => codeThemes.includes(t.key));
  const known = codeThemes.filter((k): k is string => k !== undefined);
  const floor = budget
    ? rateFloor({
        capacity: budget.tpm,
        windowMs: SCALING.budgetWindowMs,
        totalCharge: sim.chargedTokens,
        latencyMs: LATENCY.meanMs,
      }).floorMs
    : undefined;
  return {
    name,
    rows: p.answers.rows,
    unique: p.answers.unique,
    read: p.answers.chosen,
    sampled: p.answers.sampled,
    chunks: p.chunks.total,
    calls: { ...p.calls, total: p.apiCalls },
    simulatorRequests: sim.requests,
    rateLimited: sim.byStatus['429'] ?? 0,
    tokens: {
      prompt: sim.promptTokens,
      completion: sim.completionTokens,
      total: sim.promptTokens + sim.completionTokens,
    },
    answerTokens: { read, sent, ratio: sent / Math.max(1, read) },
    wallMs,
    ...(floor !== undefined ? { floorMs: floor } : {}),
    codes: r.codes.length,
    folded: r.folded.length,
    coverage: r.coverage,
    recall: {
      themes: major.length,
      found: found.length,
      missing: major.filter((t) => !found.includes(t)).map((t) => t.key),
    },
    duplicates: known.length - new Set(known).size,
    madeUp: r.codes.filter((c) => themeOfLabel(c.label) === undefined).map((c) => c.label),
  };
}

const startedAt = new Date();
const bench = await startBench();
const results: Figures[] = [];
const errors: string[] = [];
try {
  const original = makeAnswers(ORIGINAL_ANSWERS);
  const originalFile = path.join(bench.dataDir, 'original.xlsx');
  await writeSurvey(originalFile, original);
  const themed = generateThemedAnswers(10_000, 2026).map((a) => a.text);
  const themedFile = path.join(bench.dataDir, 'themed-10000.xlsx');
  await writeSurvey(themedFile, themed);
  const runs: Array<[string, string, string[], { tpm: number } | undefined]> = [
    ['original table (2,482)', originalFile, original, undefined],
    ['10,000 answers', themedFile, themed, undefined],
    [`10,000 answers, ${TPM / 1000}k TPM`, themedFile, themed, { tpm: TPM }],
  ];
  for (const [name, file, answers, budget] of runs) {
    log(`${name}…`);
    try {
      results.push(await draft(bench, name, file, answers, budget));
    } catch (error) {
      errors.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      log(`FAILED ${errors.at(-1) ?? ''}`);
    }
  }
} finally {
  await bench.close();
}

const fmt = (n: number) => new Intl.NumberFormat('en-US').format(Math.round(n));
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const settings = codeframeSettings();
const lines = [
  '',
  `verbatim bench · codeframe · ${startedAt.toISOString()} · ${os.cpus().length} cpus · node ${process.version}`,
  `time scaled 1/${SCALE_DIVISOR}: latency ${LATENCY.meanMs} ms ± ${LATENCY.jitterMs} + ${LATENCY.perOutputTokenMs.toFixed(1)} ms per output token; window ${SLOTS}; defaults: read cap ${fmt(settings.readCap)}, chunks ≤ ${settings.chunkMaxAnswers} answers / ${fmt(settings.chunkTokens)} tokens, merge ≤ ${settings.maxThemesPerMerge} themes a request, measure ${settings.measureSample} answers in batches of ${settings.measureBatchSize}, max-codes ${settings.maxCodes}, min-share ${pct(settings.minShare)}`,
  '',
  '| run | rows | unique | read | calls (extract + merge + measure) | 429s | tokens | answer tokens sent / read | wall (scaled) | ×5 | codes | folded | coverage | recall (≥ 2 %) | duplicates | made-up codes |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...results.map(
    (f) =>
      `| ${f.name} | ${fmt(f.rows)} | ${fmt(f.unique)} | ${fmt(f.read)}${f.sampled ? ' (sample)' : ''} | **${f.calls.total}** (${f.calls.extract} + ${f.calls.merge} + ${f.calls.measure}) | ${f.rateLimited} | ${fmt(f.tokens.total)} | ${fmt(f.answerTokens.sent)} / ${fmt(f.answerTokens.read)} = ${f.answerTokens.ratio.toFixed(2)} | ${(f.wallMs / 1000).toFixed(1)} s${f.floorMs !== undefined ? ` (floor ${(f.floorMs / 1000).toFixed(1)} s)` : ''} | ${((f.wallMs * SCALE_DIVISOR) / 60_000).toFixed(1)} min | ${f.codes} | ${f.folded} | ${pct(f.coverage)} | ${f.recall.found}/${f.recall.themes}${f.recall.missing.length ? ` (missing ${f.recall.missing.join(', ')})` : ''} | ${f.duplicates} | ${f.madeUp.length ? f.madeUp.join(', ') : 0} |`,
  ),
  '',
  ...errors.map((e) => `FAIL ${e}`),
];
process.stdout.write(`${lines.join('\n')}\n`);
const out = path.join(
  ROOT,
  'bench/results',
  `${startedAt.toISOString().slice(0, 19).replace(/:/g, '-')}Z-codeframe.json`,
);
await fs.mkdir(path.dirname(out), { recursive: true });
await fs.writeFile(
  out,
  `${JSON.stringify({ date: startedAt.toISOString(), machine: { cpus: os.cpus().length, node: process.version, loadAverage: os.loadavg() }, latency: LATENCY, slots: SLOTS, tpm: TPM, results, errors }, null, 1)}\n`,
);
log(`wrote ${path.relative(ROOT, out)}`);
process.exitCode =
  errors.length > 0 || results.some((f) => f.calls.total > 60 || f.recall.found < f.recall.themes) ? 1 : 0;
