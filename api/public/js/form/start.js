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
import { categoriesProblem } from './categories.js';
import { clearErrors, fieldErrors, showProblem } from './field-errors.js';
import { appendSettings, settingProblems } from './settings.js';
import { appendMulti } from './multi.js';

/** @param {SubmitEvent} event */
async function startJob(event) {
  event.preventDefault();
  clearErrors();
  // The draft may change while the file uploads (another file chosen): the job is the one sent.
  const { file, preview } = draft;
  // Every problem at once, next to its field: the analyst fixes them in one pass, not one per Start.
  /** @type {Array<[string, string]>} */
  const problems = [];
  if (!file) problems.push(['file', 'Choose the survey file first: an .xlsx or .csv file.']);
  else if (!preview) problems.push(['file', 'The file is still being read: wait a moment, then start.']);
  else if (draft.column < 0)
    problems.push(['column', 'Click the header of the column that holds the answers.']);
  const categories = categoriesProblem($('categories', HTMLTextAreaElement).value);
  if (categories) problems.push(['categories', categories]);
  problems.push(...settingProblems());
  if (fieldErrors(problems) || !file || !preview) return;

  const column = columnValue(preview, draft.column);
  const body = new FormData();
  body.append('file', file);
  body.append('sheet', preview.sheet);
  body.append('column', column);
  const gold = $('gold-column', HTMLSelectElement).value;
  if (gold !== '' && Number(gold) !== draft.column)
    body.append('goldColumn', columnValue(preview, Number(gold)));
  body.append('categories', $('categories', HTMLTextAreaElement).value);
  appendMulti(body);
  appendSettings(body);
  appendMulti(body);

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
    link.addEventListener('click', (e) => {
      e.preventDefault();
      showCard(job.jobId);
    });
    $('form-status').replaceChildren(`Started: ${column} of ${file.name}. `, link);
    announce(`Started coding ${column} of ${file.name}.`);
    showCard(job.jobId);
  } catch (error) {
    $('form-status').textContent = '';
    showProblem(error, 'form');
  } finally {
    button.disabled = false;
    button.textContent = 'Start coding';
  }
}

/**
 * The job's card, whole on the screen (its heading below any sticky bar: `scroll-margin-top` in the CSS)
 * and focused, so that a keyboard or screen reader carries on from there.
 * @param {string} jobId
 */
function showCard(jobId) {
  const card = document.getElementById(cardId(jobId));
  if (!card) return;
  card.tabIndex = -1;
  const still = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  card.scrollIntoView({ behavior: still ? 'auto' : 'smooth', block: 'start' });
  card.focus({ preventScroll: true });
}

export function wireStart() {
  $('job-form').addEventListener('submit', (event) => void startJob(event));
}
