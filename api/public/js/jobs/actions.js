// The buttons of a job's card: pause or resume, cancel, download (with the token), requests at once.

import { ApiError, cancelJob, download, patchJob } from '../api.js';
import { currentToken } from '../auth.js';
import { $, announce, busy, saveBlob } from '../dom.js';
import { renderJob } from './card.js';
import { isStreamed } from './live.js';
import { jobName } from './status.js';
import { jobs } from './store.js';
import { applyView, loadDetail } from './view.js';

function actionError(card, error) {
  const box = card.querySelector('.action-error');
  box.textContent = error instanceof ApiError ? error.message : String(error);
  box.hidden = false;
}

async function onJobAction(event) {
  const card = event.target.closest('.job');
  if (!card) return;
  const job = jobs.get(card.dataset.job);
  if (!job) return;
  const target = event.target.closest('button, a');
  if (!target) return;
  card.querySelector('.action-error').hidden = true;
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
  } else if (target.classList.contains('download') && currentToken()) {
    // A plain link cannot send the token: fetch the file, then hand it to the browser.
    event.preventDefault();
    await busy(target, async () => {
      const file = await download(target.href, `${job.jobId}.${target.dataset.format}`);
      saveBlob(file.blob, file.name);
    }).catch((error) => actionError(card, error));
  }
}

async function onLimit(event) {
  const form = event.target.closest('.limit');
  if (!form) return;
  event.preventDefault();
  const card = form.closest('.job');
  const job = jobs.get(card.dataset.job);
  const value = Number(form.querySelector('input').value);
  card.querySelector('.action-error').hidden = true;
  if (!Number.isInteger(value) || value < 1 || value > 200) {
    actionError(card, new ApiError({ detail: 'Requests at once: use a whole number from 1 to 200.' }));
    return;
  }
  await busy(form.querySelector('button'), async () => {
    applyView(await patchJob(job.jobId, { concurrency: value }));
    announce(`${jobName(job)}: up to ${value} requests at once.`);
  }).catch((error) => actionError(card, error));
}

export function wireActions() {
  $('jobs').addEventListener('click', (event) => void onJobAction(event));
  $('jobs').addEventListener('submit', (event) => void onLimit(event));
}
