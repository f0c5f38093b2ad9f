// @ts-check
// A job in words: its name, its badge, how far it is. No DOM here.

/** @import { JobPhase } from '../types.js' */
/** @import { Job } from './store.js' */

/** @typedef {'run' | 'ok' | 'warn' | 'bad' | ''} Tone */

/**
 * The name given at the start, else "file · column": as cards, announcements and button labels name the job.
 * @param {Job} job
 */
export function jobName(job) {
  return job.name || sourceOf(job);
}

/**
 * "file · column": what the job codes.
 * @param {Job} job
 */
export function sourceOf(job) {
  const column = job.progress?.column ?? job.column;
  return `${job.fileName ?? job.jobId}${column ? ` · ${column}` : ''}`;
}

/** @type {Partial<Record<JobPhase, string>>} */
const RUNNING_LABELS = {
  preparing: 'Preparing',
  classifying: 'Coding',
  reviewing: 'Second opinion',
  writing: 'Writing the file',
};

/**
 * The badge's label and tone.
 * @param {Job} job
 * @returns {[label: string, tone: Tone]}
 */
export function badgeOf(job) {
  const p = job.progress;
  switch (job.status) {
    case 'RUNNING': {
      if (job.cancelling) return ['Cancelling…', 'warn'];
      if (p?.paused) return ['Paused', 'warn'];
      const phase = p?.phase ?? job.phase;
      const label = phase ? RUNNING_LABELS[phase] : undefined;
      return [label ?? 'Running', 'run'];
    }
    case 'COMPLETED':
      return ['Done', 'ok'];
    case 'FAILED':
      return ['Failed', 'bad'];
    case 'CANCELLED':
      return ['Cancelled', 'warn'];
    case 'TERMINATED':
      return ['Stopped', 'bad'];
    case 'TIMED_OUT':
      return ['Timed out', 'bad'];
    default:
      return ['Unknown', ''];
  }
}

/**
 * Percent of rows done, or null while there is nothing to measure yet.
 * @param {Job} job
 */
export function percentOf(job) {
  const rows = job.progress?.rows;
  if (job.status === 'COMPLETED') return 100;
  if (!rows || rows.total === 0) return null;
  return Math.min(100, Math.floor((rows.done / rows.total) * 100));
}
