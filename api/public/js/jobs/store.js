// @ts-check
// What the page knows of each job: the list entry first, then the job's view and its live progress.

/**
 * @import {
 *   JobLinks, JobListItem, JobPhase, JobProgress, JobQuality, JobResultSummary, JobStart, JobStats, JobStatus
 * } from '../types.js'
 */

/**
 * A job as the page knows it: what the list, the job's view and its events said last, and the page's own
 * state of it.
 * @typedef {object} Job
 * @property {string} jobId
 * @property {JobStatus} status
 * @property {string | null} [name] the name given at the start, if any
 * @property {string | null} fileName
 * @property {string | null} column
 * @property {string | null} createdAt
 * @property {string | null} closedAt
 * @property {JobProgress | null} progress
 * @property {JobStats | null} stats
 * @property {JobQuality | null} [quality] agreement with the human-coded column, once the job has ended
 * @property {JobLinks} [links]
 * @property {JobStart | null} [startedWith] its categories and settings, as its view says (null: not said)
 * @property {boolean | null} [simulated] a dry run, as the job's view says (its progress says it too)
 * @property {JobPhase | null} [phase] the list's phase, before any progress
 * @property {number | null} [rows] the list's row count, before any progress
 * @property {number | null} [fallbacks] the list's fallback batches, before any progress or stats
 * @property {string | null} [error] why it failed, or that the server no longer has it
 * @property {boolean} detailed its view was read after it finished: nothing more to fetch
 * @property {boolean} [detailFailed] reading its view failed: not tried again
 * @property {boolean} [cancelling] cancelled from this page, not finished yet
 * @property {boolean} [fresh] started from this page
 * @property {boolean | null} [codedSoFar] a failed job's partial result can be downloaded (null: asking)
 * @property {JobResultSummary | null} [summary] its result in figures, once ended (null: asking, or none)
 * @property {string} [connection] its event stream: 'live', or why it is reconnecting
 */

/** @typedef {Pick<Job, 'jobId' | 'status' | 'fileName' | 'column' | 'createdAt' | 'closedAt'> & Partial<Job>} JobFields */

/**
 * jobId → the job as the page knows it.
 * @type {Map<string, Job>}
 */
export const jobs = new Map();

/**
 * Jobs deleted from this page: the list may still name them for a moment (visibility lags the delete).
 * @type {Set<string>}
 */
const deleted = new Set();

/** @param {string} jobId */
export function forgetJob(jobId) {
  jobs.delete(jobId);
  deleted.add(jobId);
}

/**
 * Adds the job, or updates the fields given.
 * @param {JobFields} fields
 */
export function upsertJob(fields) {
  const known = jobs.get(fields.jobId);
  if (known) return Object.assign(known, fields);
  /** @type {Job} */
  const job = { progress: null, stats: null, detailed: false, ...fields };
  jobs.set(job.jobId, job);
  return job;
}

/**
 * A `GET /jobs` entry: never turns a job we saw finish back into a running one (the list lags a little).
 * @param {JobListItem} item
 */
export function mergeListItem(item) {
  if (deleted.has(item.jobId)) return;
  const known = jobs.get(item.jobId);
  const newerRun = !known || !known.createdAt || (item.createdAt ?? '') > known.createdAt;
  if (known && known.status !== 'RUNNING' && item.status === 'RUNNING' && !newerRun) return;
  if (known && known.status === 'RUNNING' && item.status !== 'RUNNING') known.detailed = false;
  upsertJob({
    jobId: item.jobId,
    status: item.status,
    name: item.name ?? known?.name ?? null,
    fileName: item.fileName ?? known?.fileName ?? null,
    column: item.column ?? known?.column ?? null,
    phase: item.phase ?? null,
    rows: item.rows ?? null,
    fallbacks: item.fallbacks ?? null,
    createdAt: item.createdAt ?? known?.createdAt ?? null,
    closedAt: item.closedAt ?? null,
    links: item.links,
  });
}

/** Newest first. */
export function sortedJobs() {
  return [...jobs.values()].sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
}
