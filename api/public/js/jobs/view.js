// @ts-check
// A job's view (`GET /jobs/:id`, the stream's `done`, PATCH's answer) and live progress, onto its card.

/** @import { JobProgress, JobView } from '../types.js' */
/** @import { Job } from './store.js' */
import { ApiError, getJob, resultAvailable } from '../api.js';
import { announce } from '../dom.js';
import { renderJob } from './card.js';
import { loadSummary } from './result.js';
import { badgeOf, jobName } from './status.js';
import { jobs, upsertJob } from './store.js';

/** @param {JobView} view */
export function applyView(view) {
  const known = jobs.get(view.jobId);
  const wasRunning = known?.status === 'RUNNING';
  const job = upsertJob({
    jobId: view.jobId,
    status: view.status,
    name: view.name ?? known?.name ?? null,
    fileName: view.fileName ?? known?.fileName ?? null,
    column: view.progress?.column ?? known?.column ?? null,
    simulated: view.simulated ?? known?.simulated ?? null,
    createdAt: view.createdAt,
    closedAt: view.closedAt,
    progress: view.progress ?? known?.progress ?? null,
    stats: view.stats ?? null,
    quality: view.quality ?? null,
    error: view.error ?? null,
    startedWith: view.startedWith ?? known?.startedWith ?? null,
    links: view.links,
    detailed: view.status !== 'RUNNING',
  });
  if (job.status !== 'RUNNING') job.cancelling = false;
  if (wasRunning && job.status !== 'RUNNING') {
    announce(`${jobName(job)}: ${badgeOf(job)[0].toLowerCase()}.`);
  }
  if (job.status === 'FAILED' && job.codedSoFar === undefined) void checkCodedSoFar(job);
  void loadSummary(job, renderJob);
  renderJob(job);
  return job;
}

/**
 * A failed job offers the rows it coded only when the server has them as a file: asked once.
 * @param {Job} job
 */
async function checkCodedSoFar(job) {
  const url = job.links?.result;
  if (!url) return;
  job.codedSoFar = null;
  job.codedSoFar = await resultAvailable(url).catch(() => false);
  renderJob(job);
}

/**
 * @param {string} jobId
 * @param {JobProgress} progress
 */
export function applyProgress(jobId, progress) {
  const job = jobs.get(jobId);
  if (!job) return;
  job.progress = progress;
  job.column ??= progress.column;
  job.connection = 'live';
  renderJob(job);
}

/**
 * What the card says of the job's live connection ('live', or why it is reconnecting).
 * @param {string} jobId
 * @param {string} text
 */
export function setConnection(jobId, text) {
  const job = jobs.get(jobId);
  if (!job) return;
  job.connection = text;
  renderJob(job);
}

/**
 * Reads the job's view; a job the server no longer has says so.
 * @param {Job} job
 */
export async function loadDetail(job) {
  try {
    applyView(await getJob(job.jobId));
  } catch (error) {
    job.detailFailed = true;
    if (error instanceof ApiError && error.status === 404) job.error = 'This job is no longer on the server.';
    renderJob(job);
  }
}

let detailsRunning = false;

/** Finished jobs: one `GET /jobs/:id` each for their stats and error, two at a time. */
export async function loadDetails() {
  if (detailsRunning) return;
  detailsRunning = true;
  try {
    for (;;) {
      const todo = [...jobs.values()].filter((j) => j.status !== 'RUNNING' && !j.detailed && !j.detailFailed);
      if (todo.length === 0) break;
      await Promise.all(todo.slice(0, 2).map((job) => loadDetail(job)));
    }
  } finally {
    detailsRunning = false;
  }
}
