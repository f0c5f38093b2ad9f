// @ts-check
// Live progress: an event stream for the newest running jobs, a poll every few seconds for the rest.

import { ApiError, jobEvents } from '../api.js';
import { renderJob } from './card.js';
import { jobs, sortedJobs } from './store.js';
import { applyProgress, applyView, loadDetail, setConnection } from './view.js';

/**
 * jobId → the AbortController of its open stream.
 * @type {Map<string, AbortController>}
 */
const streams = new Map();
const MAX_STREAMS = 4; // browsers keep ~6 connections per server; leave room for the other calls

/** @param {string} jobId */
export const isStreamed = (jobId) => streams.has(jobId);

/** Opens streams for the newest running jobs, up to MAX_STREAMS. */
export function watchJobs() {
  const running = sortedJobs().filter((j) => j.status === 'RUNNING');
  for (const job of running.slice(0, MAX_STREAMS)) {
    if (streams.size >= MAX_STREAMS) break;
    if (!streams.has(job.jobId)) void streamJob(job.jobId);
  }
}

/** The running jobs without a stream: one `GET /jobs/:id` each. */
export async function pollUnwatched() {
  const waiting = [...jobs.values()].filter((j) => j.status === 'RUNNING' && !streams.has(j.jobId));
  for (const job of waiting) await loadDetail(job);
}

/**
 * Reads `/jobs/:id/events`: `progress` updates the card, `done` ends the stream, `shutdown` (the server is
 * draining) or a lost connection reconnects.
 * @param {string} jobId
 */
async function streamJob(jobId) {
  const control = new AbortController();
  streams.set(jobId, control);
  let delay = 1_000;
  try {
    for (;;) {
      let reconnectIn = delay;
      try {
        for await (const event of await jobEvents(jobId, control.signal)) {
          if (event.event === 'progress') {
            delay = 1_000;
            applyProgress(jobId, event.progress);
          } else if (event.event === 'done') {
            applyView(event.view);
            return;
          } else if (event.event === 'shutdown') {
            reconnectIn = event.retry || 2_000;
            setConnection(jobId, 'The server is restarting: reconnecting…');
            break;
          }
        }
      } catch (error) {
        if (control.signal.aborted) return;
        if (error instanceof ApiError && (error.status === 404 || error.status === 401)) {
          const job = jobs.get(jobId);
          if (job && error.status === 404) {
            job.status = 'UNKNOWN';
            job.error = 'This job is no longer on the server.';
          }
          return;
        }
      }
      if (jobs.get(jobId)?.connection !== 'The server is restarting: reconnecting…') {
        setConnection(jobId, 'Connection lost: reconnecting…');
      }
      await sleep(reconnectIn, control.signal);
      if (control.signal.aborted) return;
      delay = Math.min(delay * 2, 5_000);
    }
  } finally {
    streams.delete(jobId);
    const job = jobs.get(jobId);
    if (job) {
      job.connection = 'live';
      renderJob(job);
    }
    watchJobs();
  }
}

/**
 * Waits `ms`, or less when `signal` aborts.
 * @param {number} ms
 * @param {AbortSignal} signal
 * @returns {Promise<void>}
 */
function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}
