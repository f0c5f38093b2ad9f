// @ts-check
// The JSON API (see /openapi.json): fetch with the bearer token, problem bodies as ApiError, one function
// per call the page makes.

/**
 * @import { CancellingJob, CodeframeView, DuplicateJob, Estimate, JobChange, JobEvent, JobListPage, JobProgress,
 *   JobResultSummary, JobView, Preview, ProblemFields, Settings, StartedCodeframe, StartedJob } from './types.js'
 */
import { askForToken, currentToken, tokenWasDeclined } from './auth.js';
import { serverSentEvents } from './sse.js';

/** A problem body (or a failure to reach the server) as an error: `detail` is its message. */
export class ApiError extends Error {
  /** @param {ProblemFields} problem */
  constructor(problem) {
    super(problem.detail);
    /** The HTTP status; 0 when the server could not be reached, undefined for the page's own checks. */
    this.status = problem.status;
    this.code = problem.code;
    /** The request field the problem is about. */
    this.field = problem.field;
    /** Every refused field, when the request failed validation. */
    this.errors = problem.errors ?? [];
  }
}

const unauthorized = () =>
  new ApiError({ status: 401, code: 'unauthorized', detail: 'This server needs its API token.' });

/**
 * fetch with the bearer token; a 401 asks for the token (once, shared by all calls) and tries again.
 * @param {string} path
 * @param {RequestInit} [init]
 */
export async function request(path, init = {}) {
  for (;;) {
    const sent = currentToken();
    const headers = new Headers(init.headers);
    if (sent) headers.set('authorization', `Bearer ${sent}`);
    let response;
    try {
      response = await fetch(path, { ...init, headers });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw new ApiError({
        status: 0,
        detail: 'Cannot reach the verbatim server. Check that it is running, then try again.',
      });
    }
    if (response.status !== 401) return response;
    if (currentToken() !== sent) continue; // another call got a new token meanwhile
    if (tokenWasDeclined()) throw unauthorized();
    if (!(await askForToken(sent !== ''))) throw unauthorized();
  }
}

/**
 * The JSON body of a successful call; a problem body (or any failure) becomes an ApiError. The body is
 * taken to be what /openapi.json documents for the call: `T` names that shape, nothing checks it here.
 * @template T
 * @param {string} path
 * @param {RequestInit} [init]
 * @returns {Promise<T>}
 */
async function call(path, init) {
  const response = await request(path, init);
  /** @type {unknown} */
  const body = await response.json().catch(() => null);
  if (!response.ok) throw problemOf(response, body);
  return /** @type {T} */ (body);
}

/**
 * @param {Response} response
 * @param {unknown} body
 */
function problemOf(response, body) {
  if (isProblem(body)) return new ApiError(body);
  return new ApiError({
    status: response.status,
    detail: `The server answered ${response.status} ${response.statusText}`.trim() + '.',
  });
}

/**
 * @param {unknown} body
 * @returns {body is ProblemFields}
 */
function isProblem(body) {
  return typeof body === 'object' && body !== null && 'detail' in body && typeof body.detail === 'string';
}

/** @param {string} jobId */
const jobPath = (jobId) => `/jobs/${encodeURIComponent(jobId)}`;

/**
 * The server's job defaults and limits.
 * @returns {Promise<Settings>}
 */
export const getSettings = () => call('/settings');

/**
 * The sheets of an uploaded file, and the columns and first rows of one of them.
 * @param {FormData} body `file`, and `sheet` for another than the first
 * @returns {Promise<Preview>}
 */
export const previewFile = (body) => call('/jobs/preview', { method: 'POST', body });

/**
 * Starts a job from the form's fields; an identical job already running or done is answered instead
 * (`duplicate`), unless the form says `force=true`.
 * @param {FormData} body
 * @returns {Promise<StartedJob | DuplicateJob>}
 */
export const createJob = (body) => call('/jobs', { method: 'POST', body });

/** @param {string} codeframeId */
const codeframePath = (codeframeId) => `/codeframes/${encodeURIComponent(codeframeId)}`;

/**
 * Starts drafting the categories from a column's answers.
 * @param {FormData} body `file`, `sheet`, `column`, and the window and model settings
 * @returns {Promise<StartedCodeframe>}
 */
export const createCodeframe = (body) => call('/codeframes', { method: 'POST', body });

/**
 * A draft: its progress while it runs, then its codeframe.
 * @param {string} codeframeId
 * @returns {Promise<CodeframeView>}
 */
export const getCodeframe = (codeframeId) => call(codeframePath(codeframeId));

/**
 * @param {string} codeframeId
 * @returns {Promise<unknown>}
 */
export const cancelCodeframe = (codeframeId) =>
  call(`${codeframePath(codeframeId)}/cancel`, { method: 'POST' });

/**
 * A completed draft's categories file, as text: what the categories box and POST /jobs read.
 * @param {string} codeframeId
 */
export async function codeframeText(codeframeId) {
  const response = await request(`${codeframePath(codeframeId)}/result`);
  if (!response.ok) throw problemOf(response, await response.json().catch(() => null));
  return response.text();
}

/**
 * A page of the job list, newest first.
 * @param {string} [pageToken] the `nextPageToken` of the page before
 * @returns {Promise<JobListPage>}
 */
export const listJobs = (pageToken) =>
  call(pageToken ? `/jobs?pageSize=20&pageToken=${encodeURIComponent(pageToken)}` : '/jobs?pageSize=20');

/**
 * @param {string} jobId
 * @returns {Promise<JobView>}
 */
export const getJob = (jobId) => call(jobPath(jobId));

/**
 * What the job the form describes would cost: requests, tokens and dollars, without starting it.
 * @param {FormData} body
 * @returns {Promise<Estimate>}
 */
export const estimateJob = (body) => call('/jobs/estimate', { method: 'POST', body });

/**
 * An ended job's result in figures; an ApiError (409) when it has none.
 * @param {string} jobId
 * @returns {Promise<JobResultSummary>}
 */
export const getJobSummary = (jobId) => call(`${jobPath(jobId)}/summary`);

/**
 * Pauses, resumes, sets the concurrency or the cost cap of a running job; answers its view.
 * @param {string} jobId
 * @param {JobChange} change
 * @returns {Promise<JobView>}
 */
export const patchJob = (jobId, change) =>
  call(jobPath(jobId), {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(change),
  });

/**
 * @param {string} jobId
 * @returns {Promise<CancellingJob>}
 */
export const cancelJob = (jobId) => call(`${jobPath(jobId)}/cancel`, { method: 'POST' });

/**
 * Resumes a cancelled job or retries a failed one under its id; the rows it coded are kept.
 * @param {string} jobId
 * @returns {Promise<StartedJob>}
 */
export const retryJob = (jobId) => call(`${jobPath(jobId)}/retry`, { method: 'POST' });

/**
 * Deletes an ended job: its files and its workflow.
 * @param {string} jobId
 */
export async function deleteJob(jobId) {
  const response = await request(jobPath(jobId), { method: 'DELETE' });
  if (!response.ok) throw problemOf(response, await response.json().catch(() => null));
}

/**
 * Whether the job's result can be downloaded now: a HEAD of the file, so nothing is transferred.
 * @param {string} url the job's `links.result`
 */
export async function resultAvailable(url) {
  const response = await request(url, { method: 'HEAD' });
  return response.status === 200;
}

/**
 * A job's event stream, read until it ends or `signal` aborts.
 * @param {string} jobId
 * @param {AbortSignal} signal
 * @returns {Promise<AsyncGenerator<JobEvent, void, undefined>>}
 */
export async function jobEvents(jobId, signal) {
  const response = await request(`${jobPath(jobId)}/events`, {
    headers: { accept: 'text/event-stream' },
    cache: 'no-store',
    signal,
  });
  if (!response.ok) throw problemOf(response, await response.json().catch(() => null));
  if (!response.body) throw new ApiError({ status: response.status, detail: 'The event stream is empty.' });
  return jobEventsOf(serverSentEvents(response.body));
}

/**
 * The events the page acts on (`progress`, `done`, `shutdown`), their JSON parsed; others are skipped.
 * @param {AsyncIterable<import('./sse.js').ServerSentEvent>} events
 * @returns {AsyncGenerator<JobEvent, void, undefined>}
 */
async function* jobEventsOf(events) {
  for await (const { event, data, retry } of events) {
    if (event === 'progress') yield { event, progress: /** @type {JobProgress} */ (parseJson(data)) };
    else if (event === 'done') yield { event, view: /** @type {JobView} */ (parseJson(data)) };
    else if (event === 'shutdown') yield { event, retry };
  }
}

/**
 * @param {string} text
 * @returns {unknown}
 */
const parseJson = (text) => JSON.parse(text);

/**
 * A file behind a link, fetched with the token (a plain link cannot send it): its bytes and name.
 * @param {string} url
 * @param {string} fallbackName the name when the answer gives none
 */
export async function download(url, fallbackName) {
  const response = await request(url);
  if (!response.ok) throw problemOf(response, await response.json().catch(() => null));
  const name = fileNameOf(response.headers.get('content-disposition')) ?? fallbackName;
  return { blob: await response.blob(), name };
}

/** @param {string | null} disposition */
function fileNameOf(disposition) {
  if (!disposition) return undefined;
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1];
  if (encoded) return decodeURIComponent(encoded);
  return /filename="([^"]+)"/i.exec(disposition)?.[1];
}

/** @import { JobTables } from './types.js' */

/**
 * A finished job's tables by segment: by the banners given, else by those it was started with.
 * @param {string} jobId
 * @param {readonly string[]} by columns, each optionally `=` and groups
 * @returns {Promise<JobTables>}
 */
export const getTables = (jobId, by) =>
  call(
    `${jobPath(jobId)}/tables${by.length ? `?${by.map((b) => `by=${encodeURIComponent(b)}`).join('&')}` : ''}`,
  );
