// The JSON API (see /openapi.json): fetch with the bearer token, problem bodies as ApiError, one function
// per call the page makes.

import { askForToken, currentToken, tokenWasDeclined } from './auth.js';
import { serverSentEvents } from './sse.js';

/** A problem body (or a failure to reach the server) as an error: `detail` is its message. */
export class ApiError extends Error {
  constructor(problem) {
    super(problem.detail);
    this.status = problem.status;
    this.code = problem.code;
    this.field = problem.field;
  }
}

const unauthorized = () =>
  new ApiError({ status: 401, code: 'unauthorized', detail: 'This server needs its API token.' });

/** fetch with the bearer token; a 401 asks for the token (once, shared by all calls) and tries again. */
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

/** The JSON body of a successful call; a problem body (or any failure) becomes an ApiError. */
async function call(path, init) {
  const response = await request(path, init);
  const body = await response.json().catch(() => null);
  if (!response.ok) throw problemOf(response, body);
  return body;
}

function problemOf(response, body) {
  if (body && typeof body.detail === 'string') return new ApiError(body);
  return new ApiError({
    status: response.status,
    detail: `The server answered ${response.status} ${response.statusText}`.trim() + '.',
  });
}

const jobPath = (jobId) => `/jobs/${encodeURIComponent(jobId)}`;

/** The server's job defaults and limits. */
export const getSettings = () => call('/settings');

/** The sheets of an uploaded file, and the columns and first rows of one of them. */
export const previewFile = (body) => call('/jobs/preview', { method: 'POST', body });

/** Starts a job from the form's fields. */
export const createJob = (body) => call('/jobs', { method: 'POST', body });

/** A page of the job list, newest first. */
export const listJobs = (pageToken) =>
  call(pageToken ? `/jobs?pageSize=20&pageToken=${encodeURIComponent(pageToken)}` : '/jobs?pageSize=20');

export const getJob = (jobId) => call(jobPath(jobId));

/** Pauses, resumes or sets the concurrency of a running job; answers its view. */
export const patchJob = (jobId, change) =>
  call(jobPath(jobId), {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(change),
  });

export const cancelJob = (jobId) => call(`${jobPath(jobId)}/cancel`, { method: 'POST' });

/** A job's event stream (`progress`, `done`, `shutdown`), read until it ends or `signal` aborts. */
export async function jobEvents(jobId, signal) {
  const response = await request(`${jobPath(jobId)}/events`, {
    headers: { accept: 'text/event-stream' },
    cache: 'no-store',
    signal,
  });
  if (!response.ok) throw problemOf(response, await response.json().catch(() => null));
  return serverSentEvents(response.body);
}

/** A file behind a link, fetched with the token (a plain link cannot send it): its bytes and name. */
export async function download(url, fallbackName) {
  const response = await request(url);
  if (!response.ok) throw problemOf(response, await response.json().catch(() => null));
  const name = fileNameOf(response.headers.get('content-disposition')) ?? fallbackName;
  return { blob: await response.blob(), name };
}

function fileNameOf(disposition) {
  if (!disposition) return undefined;
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1];
  if (encoded) return decodeURIComponent(encoded);
  return /filename="([^"]+)"/i.exec(disposition)?.[1];
}
