/**
 * Drafting a codeframe: reading the column and cutting the chunks, a theme-extraction request per chunk,
 * merge rounds, the draft measured as an ordinary coding job (classifyBatch), and the files written.
 * File work runs on the main task queue, model requests on the LLM queue (see index.ts).
 */
import { Context } from '@temporalio/activity';
import type { CodeframePlan } from '../domain/codeframe-job.js';
import type { CallOutcome } from '../domain/codeframe-job.js';
import type { CodeframeReport, CodeframeSummary } from '../domain/codeframe-file.js';
import {
  TABLE_HEADER,
  arrangeCodeframe,
  toCategories,
  codeframeTableRows,
  formatCategoriesText,
  percent,
} from '../domain/codeframe-file.js';
import {
  buildExtractionInstructions,
  buildExtractionMessages,
  buildMergeMessages,
  extractionMaxTokens,
  extractionSchema,
  mergeMaxTokens,
  mergeSchema,
  validateExtraction,
  validateMerge,
} from '../domain/codeframe-prompt.js';
import type { MeasuredAnswer, RoundTheme, Theme } from '../domain/codeframe-themes.js';
import {
  MAX_EXAMPLES,
  MAX_MERGE_ROUNDS,
  applyMerge,
  chooseAnswers,
  cutChunks,
  finishDraft,
  measureDraft,
  measureRows,
  mergeSameLabels,
  planMergeRound,
  withIds,
} from '../domain/codeframe-themes.js';
import { DomainError } from '../domain/errors.js';
import type { JobPlan, JobSpec } from '../domain/job.js';
import { planRows, promptId } from '../domain/plan.js';
import { hashSeed } from '../domain/sampling.js';
import { cleanForModel } from '../domain/text.js';
import { writeAtomically } from '../lib/atomic-write.js';
import { readJsonFile } from '../lib/store.js';
import { readAnswerColumn } from '../sheets/index.js';
import { writeCodeframeWorkbook } from '../sheets/write-codeframe.js';
import type { ActivityDeps } from './deps.js';
import { withHeartbeat } from './heartbeat.js';
import type {
  MeasureSample,
  StoredChunk,
  StoredDraft,
  StoredMerge,
  StoredRound,
  StoredThemes,
} from './codeframe-store.js';
import {
  CATEGORIES_TXT,
  CATEGORIES_XLSX,
  CODEFRAME_PLAN,
  CODEFRAME_REPORT,
  DRAFT,
  MEASURE_SAMPLE,
  chunkFile,
  mergeFile,
  readSpec,
  roundFile,
  themesFile,
} from './codeframe-store.js';
import { callModel } from './model-call.js';
import type { StoredBatch, StoredResult } from './stored.js';
import { mapLimit, readBatch, readResult } from './stored.js';
import { estimateRequestTokens, tokenCounter } from './tokens.js';

export interface CodeframeRef {
  readonly codeframeId: string;
}

export interface MergeRoundRef extends CodeframeRef {
  readonly round: number;
}

export interface MergeGroupRef extends MergeRoundRef {
  readonly group: number;
}

/** What the workflow learns of a round: what to run, or that the draft is written. */
export interface MergeRoundStart {
  readonly kind: 'intermediate' | 'final' | 'done';
  /** Themes the round starts with (for `done`: codes in the draft). */
  readonly themes: number;
  /** Requests of the round (0 when done). */
  readonly groups: number;
}

export interface PreparedMeasure {
  /** Coding requests of the measuring job (each an index for classifyBatch). */
  readonly batches: number;
  readonly codes: number;
}

export interface ExtractOutcome extends CallOutcome {
  readonly index: number;
  readonly themes: number;
}

export interface MergeOutcome extends CallOutcome {
  readonly codes: number;
}

export interface WriteCodeframeInput extends CodeframeRef {
  readonly simulated: boolean;
  readonly measureFailed: number;
}

/** What the workflow returns of the written draft: the report without its example answers. */
export type WrittenCodeframe = CodeframeSummary;

/** Fixed tokens of a chunk beside its answers: instructions, schema, framing and the themes' output. */
const FIXED_FRAMING_TOKENS = 16;
/** Output tokens per answer of a chunk (its id, once or twice). */
const OUTPUT_TOKENS_PER_ANSWER = 5;
/** Prompt tokens per answer beside its text: its id, a tab and a newline. */
const ITEM_OVERHEAD_TOKENS = 10;

export function codeframeFileActivities(deps: ActivityDeps) {
  const { store, llm } = deps;

  return {
    /**
     * Reads the column as coding does (the same sorting and de-duplication), chooses the answers to read,
     * cuts and stores the chunks, and draws the rows that will measure the draft.
     */
    prepareCodeframe: async ({ codeframeId }: CodeframeRef): Promise<CodeframePlan> => {
      return withHeartbeat(async () => {
        const spec = await readSpec(store, codeframeId);
        const { settings, options } = spec;
        const column = await readAnswerColumn({
          path: store.file(codeframeId, spec.input),
          displayName: spec.fileName,
          format: spec.format,
          ...(spec.sheet !== undefined ? { sheet: spec.sheet } : {}),
          column: spec.column,
        });
        // The model gets a copy without control, bidi or zero-width characters, as coding's prompts do.
        const question = cleanForModel(spec.question ?? column.question);
        const rows = planRows(column.rows);
        if (rows.answers.length === 0) {
          const { total, empty, invalid, coded } = rows.counts;
          throw new DomainError(
            'no_answers',
            `Column ${JSON.stringify(spec.column)} of ${spec.fileName} has no answers to draft a codeframe from ` +
              `(${total} rows: ${empty} empty, ${invalid} placeholders such as "n/a", ${coded} already coded)`,
            'column',
          );
        }
        const counts = new Array<number>(rows.answers.length).fill(0);
        /** The unique answer of each row to code, in sheet order. */
        const rowAnswers: number[] = [];
        for (const a of rows.assignments) {
          if (a.answer === undefined) continue;
          counts[a.answer] = (counts[a.answer] ?? 0) + 1;
          rowAnswers.push(a.answer);
        }
        const tokenize = await tokenCounter(options.model);
        const maxThemes = settings.maxThemesPerChunk;
        const instructions = buildExtractionInstructions(question, maxThemes);
        const instructionTokens = tokenize(instructions);
        const count = (text: string) => (text === instructions ? instructionTokens : tokenize(text));
        const fixedTokens =
          instructionTokens +
          tokenize(JSON.stringify(extractionSchema())) +
          FIXED_FRAMING_TOKENS +
          extractionMaxTokens(0, maxThemes);
        const chunking = {
          tokenTarget: settings.chunkTokens,
          fixedTokens,
          completionTokensPerItem: OUTPUT_TOKENS_PER_ANSWER,
          itemOverheadTokens: ITEM_OVERHEAD_TOKENS,
          maxItems: settings.chunkMaxAnswers,
          countTokens: count,
        };
        const text = (i: number) => cleanForModel(rows.answers[i]?.text ?? '');
        // An answer's share of its request, as the chunks are cut by: read at most --read-tokens of them.
        const { chosen, sampled } = chooseAnswers(counts, settings.readCap, settings.seed, {
          tokens: settings.readTokens,
          cost: (i) => count(text(i)) + ITEM_OVERHEAD_TOKENS + OUTPUT_TOKENS_PER_ANSWER,
        });
        // However the answers fall into chunks, no more requests than the budget fills.
        const maxChunks = Math.ceil(settings.readTokens / Math.max(1, settings.chunkTokens - fixedTokens));
        const chunks = cutChunks(
          chosen.map((index) => ({ index, text: text(index) })),
          chunking,
          maxChunks,
        );
        let estimatedTokens = 0;
        await mapLimit(chunks.length, 16, async (index) => {
          const answers = chunks[index] ?? [];
          const items = answers.map((a, position) => ({ id: promptId(position), text: a.text }));
          const chunk: StoredChunk = {
            index,
            key: hashSeed(...items.map((i) => i.text)),
            items,
            weights: answers.map((a) => counts[a.index] ?? 1),
          };
          estimatedTokens += estimateRequestTokens(
            count,
            buildExtractionMessages(question, items, maxThemes),
            extractionMaxTokens(items.length, maxThemes),
          );
          await store.writeJson(chunkFile(store, codeframeId, index), chunk);
        });

        const drawn = measureRows(rowAnswers.length, settings.measureSample, settings.seed);
        const weights = new Map<number, number>();
        for (const r of drawn) {
          const answer = rowAnswers[r] ?? 0;
          weights.set(answer, (weights.get(answer) ?? 0) + 1);
        }
        const sample: MeasureSample = {
          rows: drawn.length,
          answers: [...weights]
            .sort(([a], [b]) => a - b)
            .map(([answer, weight]) => ({ text: cleanForModel(rows.answers[answer]?.text ?? ''), weight })),
        };
        await store.writeJson(store.file(codeframeId, MEASURE_SAMPLE), sample);
        const plan: CodeframePlan = {
          sheet: column.sheet,
          header: column.header,
          question,
          rows: rows.counts,
          uniqueAnswers: rows.answers.length,
          chosen: chosen.length,
          sampled,
          chunks: chunks.length,
          measureRows: drawn.length,
          estimatedTokens,
          simulated: llm.simulated,
          ...(column.warnings.length > 0 ? { warnings: column.warnings } : {}),
        };
        // The plan last: a plan on disk means its chunks and sample are all there.
        await store.writeJson(store.file(codeframeId, CODEFRAME_PLAN), plan);
        return plan;
      });
    },

    /**
     * Builds round `round` from what the round before left (or, for round 0, from every chunk's themes)
     * and decides: another round of merge requests, or the draft, written once and for all.
     */
    startMergeRound: async ({ codeframeId, round }: MergeRoundRef): Promise<MergeRoundStart> => {
      const draft = await store.readJsonIfExists<StoredDraft>(store.file(codeframeId, DRAFT));
      if (draft) return { kind: 'done', themes: draft.codes.length, groups: 0 };
      const existing = await store.readJsonIfExists<StoredRound>(roundFile(store, codeframeId, round));
      if (existing)
        return { kind: existing.kind, themes: existing.themes.length, groups: existing.groups.length };
      const spec = await readSpec(store, codeframeId);
      const { settings } = spec;
      let themes: Theme[];
      let lastWasFinal = false;
      /** Themes a final merge left out (they fit none of its codes): Other's, named in the draft. */
      let leftOut: Array<{ label: string; count: number }> = [];
      if (round === 0) {
        const plan = await store.readJson<CodeframePlan>(codeframeId, CODEFRAME_PLAN);
        const extracted = await mapLimit(plan.chunks, 16, (i) =>
          store.readJsonIfExists<StoredThemes>(themesFile(store, codeframeId, i)),
        );
        // A chunk whose retries ran out has no file: the others' themes go on without it.
        themes = extracted.flatMap((e) => e?.themes ?? []);
      } else {
        const previous = await readJsonFile<StoredRound>(
          roundFile(store, codeframeId, round - 1),
          codeframeId,
        );
        const outputs = await mapLimit(previous.groups.length, 16, (g) =>
          store.readJsonIfExists<StoredMerge>(mergeFile(store, codeframeId, round - 1, g)),
        );
        const byId = new Map(previous.themes.map((t) => [t.id, t]));
        const final = previous.kind === 'final';
        leftOut = [...(previous.leftOut ?? [])];
        themes = previous.groups.flatMap((ids, g) => {
          const members = ids.flatMap((id) => byId.get(id) ?? []);
          // A request that failed (or an answer to other themes) carries its themes over unmerged.
          const output = outputs[g];
          const merged = applyMerge(
            members,
            output?.key === groupKey(members) ? output.codes : undefined,
            final,
          );
          leftOut.push(...merged.leftOut.map((t) => ({ label: t.label, count: t.count })));
          return merged.themes;
        });
        lastWasFinal = final;
      }
      themes = mergeSameLabels(themes);
      const decision = planMergeRound({
        themes,
        round,
        lastWasFinal,
        maxCodes: settings.maxCodes,
        maxPerCall: settings.maxThemesPerMerge,
        maxRounds: MAX_MERGE_ROUNDS,
      });
      if (decision.kind === 'done') {
        const { codes, overflow } = finishDraft(themes, settings.maxCodes, leftOut);
        const written: StoredDraft = { codes, overflow, rounds: round, reason: decision.reason };
        await store.writeJson(store.file(codeframeId, DRAFT), written);
        return { kind: 'done', themes: codes.length, groups: 0 };
      }
      const withIdsThemes = withIds(themes);
      const stored: StoredRound = {
        round,
        kind: decision.kind,
        themes: withIdsThemes,
        groups: decision.groups.map((g) => g.map((i) => withIdsThemes[i]?.id ?? '')),
        targets: decision.targets,
        ...(leftOut.length > 0 ? { leftOut } : {}),
      };
      await store.writeJson(roundFile(store, codeframeId, round), stored);
      return { kind: decision.kind, themes: themes.length, groups: stored.groups.length };
    },

    /**
     * The draft as the categories of an ordinary coding job over the measure sample, in this folder (its
     * id is the draft's, so classifyBatch's 429 notices reach the draft's workflow). Written once.
     */
    prepareMeasure: async ({ codeframeId }: CodeframeRef): Promise<PreparedMeasure> => {
      const draft = await store.readJson<StoredDraft>(codeframeId, DRAFT);
      const existing = await store.readJsonIfExists<JobPlan>(store.file(codeframeId, 'plan.json'));
      if (existing) return { batches: existing.batches, codes: draft.codes.length };
      const spec = await readSpec(store, codeframeId);
      const plan = await store.readJson<CodeframePlan>(codeframeId, CODEFRAME_PLAN);
      const sample = await store.readJson<MeasureSample>(codeframeId, MEASURE_SAMPLE);
      const size = spec.settings.measureBatchSize;
      // A draft with no code (nothing codeable found) is measured all the same: everything is Other.
      // Nets are derived, never coded: the measuring job codes with the names and descriptions.
      const categories = toCategories(draft.codes.map(({ label, description }) => ({ label, description })));

      const batches: StoredBatch[] = [];
      for (let from = 0; from < sample.answers.length; from += size) {
        const answers = sample.answers.slice(from, from + size);
        const rows = answers.reduce((s, a) => s + a.weight, 0);
        batches.push({
          index: batches.length,
          firstRow: 0,
          lastRow: 0,
          rows,
          answers: answers.length,
          answerIds: answers.map((_, i) => from + i),
          items: answers.map((a, position) => ({ id: promptId(position), text: a.text })),
        });
      }
      const job: JobSpec = {
        jobId: codeframeId,
        fileName: spec.fileName,
        format: spec.format,
        input: spec.input,
        ...(spec.sheet !== undefined ? { sheet: spec.sheet } : {}),
        column: spec.column,
        question: plan.question,
        categories: categories.length > 0 ? categories : [{ name: 'Other' }],
        options: spec.options,
        createdAt: spec.createdAt,
      };
      const jobPlan: JobPlan = {
        sheet: plan.sheet,
        header: plan.header,
        headerRow: 0,
        column: spec.column,
        categoryColumn: '',
        categoryHeader: '',
        question: plan.question,
        rows: { total: sample.rows, empty: 0, invalid: 0, coded: 0, classify: sample.rows },
        uniqueAnswers: sample.answers.length,
        batches: batches.length,
        estimatedTokens: 0,
        simulated: plan.simulated,
      };
      await mapLimit(batches.length, 16, (i) =>
        batches[i] ? store.writeJson(store.batchFile(codeframeId, i), batches[i]) : Promise.resolve(),
      );
      await store.writeJson(store.file(codeframeId, 'job.json'), job);
      // The plan last: a plan on disk means the measuring job is whole.
      await store.writeJson(store.file(codeframeId, 'plan.json'), jobPlan);
      return { batches: batches.length, codes: draft.codes.length };
    },

    /** Shares and coverage from the measured sample, then categories.txt, categories.xlsx and the report. */
    writeCodeframe: async (input: WriteCodeframeInput): Promise<WrittenCodeframe> => {
      return withHeartbeat(async () => {
        const { codeframeId } = input;
        const spec = await readSpec(store, codeframeId);
        const plan = await store.readJson<CodeframePlan>(codeframeId, CODEFRAME_PLAN);
        const draft = await store.readJson<StoredDraft>(codeframeId, DRAFT);
        const sample = await store.readJson<MeasureSample>(codeframeId, MEASURE_SAMPLE);
        const jobPlan = await store.readJson<JobPlan>(codeframeId, 'plan.json');
        const measured = await readMeasured(codeframeId, jobPlan.batches, sample);
        const m = measureDraft(draft.codes, measured, spec.settings.minShare);
        const cf = arrangeCodeframe(m);
        const writtenAt = new Date();
        const folded = m.folded.map((f) => ({ label: f.label, share: f.share, measured: f.measured }));
        const overflow = draft.overflow.map((o) => o.label);
        const text = formatCategoriesText(cf, {
          fileName: spec.fileName,
          column: spec.column,
          ...(spec.sheet !== undefined ? { sheet: spec.sheet } : {}),
          date: writtenAt.toISOString().slice(0, 10),
          model: spec.options.model,
          simulated: input.simulated,
          coverage: m.coverage,
          base: m.base,
          minShare: spec.settings.minShare,
          folded,
          overflow,
          classifyCommand: classifyCommand(spec.fileName, spec.column, spec.sheet),
        });
        await store.writeBytes(codeframeId, CATEGORIES_TXT, Buffer.from(text, 'utf8'));
        await writeAtomically(store.file(codeframeId, CATEGORIES_XLSX), (tmp) =>
          writeCodeframeWorkbook(tmp, {
            header: TABLE_HEADER,
            rows: codeframeTableRows(cf),
            shareColumn: TABLE_HEADER.indexOf('Estimated share'),
            about: [
              [
                'Draft of',
                `${spec.fileName}, column ${spec.column}${spec.sheet ? `, sheet ${spec.sheet}` : ''}`,
              ],
              ['Question', plan.question],
              ['Written', writtenAt.toISOString()],
              [
                'Model',
                input.simulated ? `${spec.options.model} (SIMULATED: no OPENAI_API_KEY)` : spec.options.model,
              ],
              ['Coverage', `${percent(m.coverage)} of answers fit a code`],
              ['Shares', `estimates from a sample of ${m.base} answers`],
              [
                'Folded into Other',
                folded.map((f) => `${f.label} (${percent(f.share)})`).join(', ') || 'none',
              ],
              ['Next', `review and edit, then: ${classifyCommand(spec.fileName, spec.column, spec.sheet)}`],
              ...(plan.warnings ?? []).map((w): [string, string] => ['Reading the file', w.message]),
            ],
          }),
        );
        const report: CodeframeReport = {
          codeframeId,
          fileName: spec.fileName,
          column: spec.column,
          ...(spec.sheet !== undefined ? { sheet: spec.sheet } : {}),
          question: plan.question,
          writtenAt: writtenAt.toISOString(),
          model: spec.options.model,
          simulated: input.simulated,
          codes: cf.codes,
          nets: cf.nets,
          other: cf.other,
          folded,
          overflow,
          minShare: spec.settings.minShare,
          coverage: m.coverage,
          base: m.base,
          covered: m.covered,
          sampleRows: sample.rows,
          measureFailed: input.measureFailed,
          warnings: (plan.warnings ?? []).map((w) => w.message),
          files: { txt: CATEGORIES_TXT, xlsx: CATEGORIES_XLSX },
        };
        await store.writeJson(store.file(codeframeId, CODEFRAME_REPORT), report);
        // The workflow's result carries no answers: the examples stay in the report file.
        return { ...report, codes: report.codes.map(({ examples: _, ...code }) => code) };
      });
    },
  };

  /** The measured answers with their labels; batches whose retries ran out are left out of the base. */
  async function readMeasured(id: string, batches: number, sample: MeasureSample): Promise<MeasuredAnswer[]> {
    const results = await mapLimit(batches, 16, async (i) => ({
      batch: await readBatch(store, id, i),
      result: await readResult(store, id, i),
    }));
    return results.flatMap(({ batch, result }) => {
      if (!result || result.fallback) return [];
      return batch.answerIds.flatMap((answer, position) => {
        const a = sample.answers[answer];
        const label = firstLabel(result, position);
        return a && label ? [{ text: a.text, label, weight: a.weight }] : [];
      });
    });
  }
}

export function codeframeLlmActivities(deps: ActivityDeps) {
  const { store } = deps;

  return {
    /** One chunk's themes from the model, each with the answers that carry it; stored under its index. */
    extractThemes: async ({
      codeframeId,
      index,
    }: CodeframeRef & { index: number }): Promise<ExtractOutcome> => {
      const ctx = Context.current();
      const attempt = ctx.info.attempt;
      const chunk = await readJsonFile<StoredChunk>(chunkFile(store, codeframeId, index), codeframeId);
      const previous = await store.readJsonIfExists<StoredThemes>(themesFile(store, codeframeId, index));
      if (previous?.key === chunk.key) {
        // Done before (a worker died after storing it, or an earlier run): nothing is sent again.
        return { index, themes: previous.themes.length, usage: ZERO_USAGE, apiCalls: 0, reused: true };
      }
      const spec = await readSpec(store, codeframeId);
      const plan = await store.readJson<CodeframePlan>(codeframeId, CODEFRAME_PLAN);
      const maxThemes = spec.settings.maxThemesPerChunk;
      const request = {
        model: spec.options.model,
        temperature: spec.options.temperature,
        messages: buildExtractionMessages(plan.question, chunk.items, maxThemes),
        schema: extractionSchema(),
        maxCompletionTokens: extractionMaxTokens(chunk.items.length, maxThemes),
      };
      return callModel(deps, { jobId: codeframeId, index, request }, async (response) => {
        const found = validateExtraction(response.content, chunk.items, maxThemes);
        const position = new Map(chunk.items.map((item, i) => [item.id, i]));
        const themes: Theme[] = found.map((t) => {
          const at = t.ids.flatMap((id) => position.get(id) ?? []);
          const byWeight = [...at].sort((a, b) => (chunk.weights[b] ?? 1) - (chunk.weights[a] ?? 1) || a - b);
          return {
            label: t.label,
            description: t.description,
            net: '',
            count: at.reduce((sum, i) => sum + (chunk.weights[i] ?? 1), 0),
            examples: byWeight.slice(0, MAX_EXAMPLES).map((i) => chunk.items[i]?.text ?? ''),
          };
        });
        const stored: StoredThemes = {
          index,
          key: chunk.key,
          themes,
          usage: response.usage,
          latencyMs: Math.round(response.latencyMs),
          attempt,
          model: spec.options.model,
          ...(deps.identity ? { worker: deps.identity } : {}),
          ...(response.simulated ? { simulated: true as const } : {}),
        };
        await store.writeJson(themesFile(store, codeframeId, index), stored);
        if (spec.options.rateLimitDelayMs > 0) await ctx.sleep(spec.options.rateLimitDelayMs);
        return {
          index,
          themes: themes.length,
          usage: response.usage,
          apiCalls: attempt,
          reused: false,
          ...(response.simulated ? { simulated: true } : {}),
        };
      });
    },

    /** One merge request of a round: its themes to at most the round's target codes; stored under (round, group). */
    mergeThemes: async ({ codeframeId, round, group }: MergeGroupRef): Promise<MergeOutcome> => {
      const ctx = Context.current();
      const attempt = ctx.info.attempt;
      const stored = await readJsonFile<StoredRound>(roundFile(store, codeframeId, round), codeframeId);
      const ids = stored.groups[group] ?? [];
      const byId = new Map(stored.themes.map((t) => [t.id, t]));
      const themes: RoundTheme[] = ids.flatMap((id) => byId.get(id) ?? []);
      const key = groupKey(themes);
      const previous = await store.readJsonIfExists<StoredMerge>(mergeFile(store, codeframeId, round, group));
      if (previous?.key === key) {
        return { codes: previous.codes.length, usage: ZERO_USAGE, apiCalls: 0, reused: true };
      }
      const spec = await readSpec(store, codeframeId);
      const plan = await store.readJson<CodeframePlan>(codeframeId, CODEFRAME_PLAN);
      const target = stored.targets[group] ?? spec.settings.maxCodes;
      const items = themes.map((t) => ({
        id: t.id,
        label: t.label,
        description: t.description,
        answers: t.count,
      }));
      const request = {
        model: spec.options.model,
        temperature: spec.options.temperature,
        messages: buildMergeMessages(plan.question, items, target, stored.kind === 'final'),
        schema: mergeSchema(),
        maxCompletionTokens: mergeMaxTokens(items.length, target),
      };
      return callModel(deps, { jobId: codeframeId, index: group, request }, async (response) => {
        const codes = validateMerge(response.content, ids);
        const output: StoredMerge = {
          round,
          group,
          key,
          codes,
          usage: response.usage,
          attempt,
          ...(response.simulated ? { simulated: true as const } : {}),
        };
        await store.writeJson(mergeFile(store, codeframeId, round, group), output);
        if (spec.options.rateLimitDelayMs > 0) await ctx.sleep(spec.options.rateLimitDelayMs);
        return {
          codes: codes.length,
          usage: response.usage,
          apiCalls: attempt,
          reused: false,
          ...(response.simulated ? { simulated: true } : {}),
        };
      });
    },
  };
}

const ZERO_USAGE = { prompt: 0, completion: 0, cached: 0 } as const;

/** What a stored merge answer must match to be used: the themes its request was sent. */
function groupKey(themes: readonly RoundTheme[]): number {
  return hashSeed(...themes.flatMap((t) => [t.id, t.label]));
}

/** An item's label in a stored result: a string, or (multi-code results) the first of a list. */
function firstLabel(
  result: Extract<StoredResult, { labels: unknown }>,
  position: number,
): string | undefined {
  const label = (result.labels as ReadonlyArray<string | readonly string[]>)[position];
  return typeof label === 'string' ? label || undefined : label?.[0];
}

/** What the reviewer runs once the draft is edited. */
function classifyCommand(fileName: string, column: string, sheet: string | undefined): string {
  const quote = (s: string) => (/^[\w./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);
  return [
    'verbatim classify',
    quote(fileName),
    '--column',
    quote(column),
    ...(sheet !== undefined ? ['--sheet', quote(sheet)] : []),
    '--categories-file <this file>',
  ].join(' ');
}
