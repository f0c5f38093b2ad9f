/**
 * A job's result summary (`GET /jobs/:id/summary`): the Summary sheet's figures with example answers, as
 * JSON. writeOutput writes it beside the workbook; a job that ended before it existed gets it made from the
 * store on the first request, as the .sav is.
 */
import type { QualitySummary } from '../domain/quality.js';
import type { ResultSummary } from '../domain/report.js';
import { resultSummary } from '../domain/report.js';
import { JobResultNotReadyError } from '../domain/errors.js';
import type { JobStore } from '../lib/store.js';
import type { CodedOutput } from './coded-output.js';
import { answerTexts, loadCodedOutput } from './coded-output.js';

export const SUMMARY_JSON = 'summary.json';

/** What result.json (written with the output) says of how the job ended. */
export interface OutputFacts {
  readonly partial: boolean;
  readonly failed?: boolean;
  readonly simulated: boolean;
  readonly quality?: QualitySummary;
}

/** The summary of the coded output, with the example answers read from the batch files. */
export async function summarizeOutput(
  store: JobStore,
  loaded: CodedOutput,
  facts: OutputFacts,
  answerText = answerTexts(store, loaded.spec.jobId, loaded.spans),
): Promise<ResultSummary> {
  const texts = await Promise.all(
    loaded.coded.examples.map((answers) => Promise.all(answers.map((a) => answerText(a)))),
  );
  return resultSummary(
    {
      codeframe: loaded.codeframe,
      multi: loaded.mode.multi,
      tally: loaded.coded.tally,
      partial: facts.partial,
      ...(facts.failed ? { failed: true } : {}),
      simulated: facts.simulated,
    },
    (column) => texts[column] ?? [],
    facts.quality,
  );
}

/**
 * The job's summary.json, made now from the store when the job's output predates it. Throws
 * `JobResultNotReadyError` while the job has written no output, `JobNotFoundError` for an unknown job.
 */
export async function readJobSummary(store: JobStore, jobId: string): Promise<ResultSummary> {
  const facts = await store.readJsonIfExists<OutputFacts>(store.file(jobId, 'result.json'));
  if (!facts) {
    await store.readJson(jobId, 'job.json'); // unknown jobs say so; known ones have no output yet
    throw new JobResultNotReadyError(jobId);
  }
  const stored = await store.readJsonIfExists<ResultSummary>(store.file(jobId, SUMMARY_JSON));
  if (stored) return stored;
  const summary = await summarizeOutput(store, await loadCodedOutput(store, jobId), facts);
  await store.writeJson(store.file(jobId, SUMMARY_JSON), summary);
  return summary;
}
