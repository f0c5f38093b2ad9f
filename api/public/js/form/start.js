// @ts-check
// Start: check the steps, send the form, and show the new job at the top of the list.

import { createJob } from '../api.js';
import { $, announce } from '../dom.js';
import { cardId } from '../jobs/card.js';
import { renderJobs } from '../jobs/list.js';
import { watchJobs } from '../jobs/live.js';
import { upsertJob } from '../jobs/store.js';
import { columnValue } from './columns.js';
import { draft } from './draft.js';
import { clearErrors, fieldError, showProblem } from './field-errors.js';
import { appendSettings } from './settings.js';

/** @param {SubmitEvent} event */
async function startJob(event) {
  event.preventDefault();
  clearErrors();
  // The draft may change while the file uploads (another file chosen): the job is the one sent.
  const { file, preview } = draft;
  if (!file) return fieldError('file', 'Choose the survey file first: an .xlsx or .csv file.');
  if (!preview) return fieldError('file', 'The file is still being read: wait a moment, then start.');
  if (draft.column < 0) return fieldError('column', 'Click the header of the column that holds the answers.');

  const column = columnValue(preview, draft.column);
  const body = new FormData();
  body.append('file', file);
  body.append('sheet', preview.sheet);
  body.append('column', column);
  body.append('categories', $('categories', HTMLTextAreaElement).value);
  appendSettings(body);

  const button = $('start', HTMLButtonElement);
  button.disabled = true;
  button.textContent = 'Starting…';
  $('form-status').textContent = `Uploading ${file.name}…`;
  try {
    const started = await createJob(body);
    const job = upsertJob({
      jobId: started.jobId,
      status: 'RUNNING',
      fileName: file.name,
      column,
      createdAt: new Date().toISOString(),
      closedAt: null,
      links: started.links,
    });
    job.fresh = true;
    renderJobs();
    watchJobs();
    const link = document.createElement('a');
    link.href = `#${cardId(job.jobId)}`;
    link.textContent = 'Follow it in Jobs';
    $('form-status').replaceChildren(`Started: ${column} of ${file.name}. `, link);
    announce(`Started coding ${column} of ${file.name}.`);
    const card = document.getElementById(cardId(job.jobId));
    if (card && card.getBoundingClientRect().top > window.innerHeight) {
      card.scrollIntoView({ behavior: 'smooth', block: 'center' });
    }
  } catch (error) {
    $('form-status').textContent = '';
    showProblem(error, 'form');
  } finally {
    button.disabled = false;
    button.textContent = 'Start coding';
  }
}

export function wireStart() {
  $('job-form').addEventListener('submit', (event) => void startJob(event));
}
