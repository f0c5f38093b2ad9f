// @ts-check
// The buttons of a job's card: pause or resume, cancel, resume or retry, run again, delete, download (with
// the token), requests at once, the cost cap.

/** @import { JobChange } from '../types.js' */
/** @import { Job } from './store.js' */
import { ApiError, cancelJob, deleteJob, download, patchJob, retryJob } from '../api.js';
import { ask } from '../ask.js';
import { currentToken } from '../auth.js';
import { $, announce, busy, find, saveBlob } from '../dom.js';
import { runAgain } from '../form/again.js';
import { dropCard, renderJob } from './card.js';
import { renderJobs } from './list.js';
import { isStreamed, watchJobs } from './live.js';
import { badgeOf, jobName } from './status.js';
import { forgetJob, jobs } from './store.js';
import { applyView, loadDetail } from './view.js';

/**
 * @param {HTMLElement} card
 * @param {unknown} error
 */
function actionError(card, error) {
  const box = find(card, '.action-error');
  box.textContent = error instanceof ApiError ? error.message : String(error);
  box.hidden = false;
}

/**
 * The card and job an event happened in, if any.
 * @param {Event} event
 * @returns {{ card: HTMLElement; job: Job } | undefined}
 */
function jobOf(event) {
  const card = event.target instanceof Element ? event.target.closest('.job') : null;
  if (!(card instanceof HTMLElement)) return undefined;
  const job = jobs.get(card.dataset.job ?? '');
  return job && { card, job };
}

/** @param {MouseEvent} event */
async function onJobAction(event) {
  const { card, job } = jobOf(event) ?? {};
  if (!card || !job) return;
  const target = event.target instanceof Element ? event.target.closest('button, a') : null;
  if (!(target instanceof HTMLElement)) return;
  find(card, '.action-error').hidden = true;
  if (target.classList.contains('pause')) {
    const paused = !job.progress?.paused;
    await busy(target, async () => {
      applyView(await patchJob(job.jobId, { paused }));
      announce(`${jobName(job)} ${paused ? 'paused' : 'resumed'}.`);
    }).catch((error) => actionError(card, error));
  } else if (target.classList.contains('cancel')) {
    const ok = window.confirm(
      `Cancel coding ${jobName(job)}?\n\nThe rows coded so far are kept: you can download them as a partial result.`,
    );
    if (!ok) return;
    await busy(target, async () => {
      await cancelJob(job.jobId);
      job.cancelling = true;
      renderJob(job);
      if (!isStreamed(job.jobId)) void loadDetail(job);
    }).catch((error) => actionError(card, error));
  } else if (target.classList.contains('retry')) {
    const resuming = job.status === 'CANCELLED';
    await busy(target, async () => {
      const started = await retryJob(job.jobId);
      // Running again under its id: the card follows the new run's progress from its stream.
      Object.assign(job, {
        status: started.status,
        closedAt: null,
        stats: null,
        error: null,
        detailed: false,
        codedSoFar: undefined,
        summary: undefined,
        cancelling: false,
        links: started.links,
      });
      renderJobs();
      watchJobs();
      announce(`${jobName(job)} ${resuming ? 'resumed' : 'running again'}: the rows coded before are kept.`);
    }).catch((error) => actionError(card, error));
  } else if (target.classList.contains('delete')) {
    const answer = await ask({
      title: 'Delete this job?',
      text:
        `“${jobName(job)}” (${badgeOf(job)[0].toLowerCase()}) and its files are removed from the server, ` +
        'the coded workbook too. This cannot be undone.',
      choices: [{ value: 'delete', label: 'Delete', look: 'danger' }],
    });
    if (answer !== 'delete') return;
    await busy(target, async () => {
      await deleteJob(job.jobId);
      const name = jobName(job);
      forgetJob(job.jobId);
      dropCard(job.jobId);
      renderJobs();
      announce(`${name} deleted.`);
      $('jobs-title').focus(); // its card, and the button that had the focus, are gone
    }).catch((error) => actionError(card, error));
  } else if (target.classList.contains('again')) {
    void runAgain(job);
  } else if (
    target instanceof HTMLAnchorElement &&
    (target.classList.contains('download') || target.classList.contains('coded-so-far')) &&
    currentToken()
  ) {
    // A plain link cannot send the token: fetch the file, then hand it to the browser.
    event.preventDefault();
    await busy(target, async () => {
      const file = await download(target.href, `${job.jobId}.${target.dataset.format}`);
      saveBlob(file.blob, file.name);
    }).catch((error) => actionError(card, error));
  }
}

/**
 * What a small form of a card's details changes: the change to send and what to announce, or why its text
 * is refused.
 * @typedef {{ change: JobChange, said: string } | { refused: string }} ReadChange
 */

/**
 * The card's forms that change a running job (PATCH /jobs/:id), by class: each reads its input's text.
 * @type {Readonly<Record<string, (text: string) => ReadChange>>}
 */
const CHANGES = {
  limit: (text) => {
    const value = Number(text);
    return Number.isInteger(value) && value >= 1 && value <= 200
      ? { change: { concurrency: value }, said: `up to ${value} requests at once` }
      : { refused: 'Requests at once: use a whole number from 1 to 200.' };
  },
  // Empty lifts the cap.
  cap: (text) => {
    const value = Number(text);
    if (text === '') return { change: { maxCost: null }, said: 'cost cap lifted' };
    return Number.isFinite(value) && value > 0
      ? { change: { maxCost: value }, said: `cost cap set to $${value}` }
      : { refused: 'Cost cap: use a number of dollars above 0, or leave it empty.' };
  },
};

/** @param {SubmitEvent} event */
async function onChange(event) {
  const form = event.target instanceof Element ? event.target.closest('.limit, .cap') : null;
  const read = form ? CHANGES[form.classList.contains('cap') ? 'cap' : 'limit'] : undefined;
  if (!form || !read) return;
  event.preventDefault();
  const { card, job } = jobOf(event) ?? {};
  if (!card || !job) return;
  const asked = read(find(form, 'input', HTMLInputElement).value.trim());
  find(card, '.action-error').hidden = true;
  if ('refused' in asked) {
    actionError(card, new ApiError({ detail: asked.refused }));
    return;
  }
  await busy(find(form, 'button'), async () => {
    applyView(await patchJob(job.jobId, asked.change));
    announce(`${jobName(job)}: ${asked.said}.`);
  }).catch((error) => actionError(card, error));
}

export function wireActions() {
  $('jobs').addEventListener('click', (event) => void onJobAction(event));
  $('jobs').addEventListener('submit', (event) => void onChange(event));
}
