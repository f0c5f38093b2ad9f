// @ts-check
// Start: check the steps, send the form, and show the new job at the top of the list.

/** @import { DuplicateJob } from '../types.js' */
import { createJob } from '../api.js';
import { ask } from '../ask.js';
import { $, announce } from '../dom.js';
import { cardId } from '../jobs/card.js';
import { renderJobs } from '../jobs/list.js';
import { watchJobs } from '../jobs/live.js';
import { badgeOf, jobName } from '../jobs/status.js';
import { jobs, upsertJob } from '../jobs/store.js';
import { loadDetail } from '../jobs/view.js';
import { appendBanners } from './banners.js';
import { columnValue } from './columns.js';
import { appendSource, draft, sourceName } from './draft.js';
import { categoriesProblem } from './categories.js';
import { clearErrors, fieldErrors, showProblem } from './field-errors.js';
import { appendSettings, settingProblems } from './settings.js';
import { appendMulti } from './multi.js';

/**
 * The job the form describes, as `POST /jobs` (and `/jobs/estimate`) take it; undefined, with every problem
 * shown next to its field, when the form is not ready.
 */
export function jobForm() {
  clearErrors();
  // The draft may change while the file uploads (another file chosen): the job is the one sent.
  const { preview } = draft;
  const fileName = sourceName();
  // Every problem at once, next to its field: the analyst fixes them in one pass, not one per Start.
  /** @type {Array<[string, string]>} */
  const problems = [];
  if (!fileName) problems.push(['file', 'Choose the survey file first: an .xlsx or .csv file.']);
  else if (!preview) problems.push(['file', 'The file is still being read: wait a moment, then start.']);
  else if (draft.column < 0)
    problems.push(['column', 'Click the header of the column that holds the answers.']);
  const categories = categoriesProblem($('categories', HTMLTextAreaElement).value);
  if (categories) problems.push(['categories', categories]);
  problems.push(...settingProblems());
  if (fieldErrors(problems) || !fileName || !preview) return undefined;

  const column = columnValue(preview, draft.column);
  const body = new FormData();
  // The chosen file, or the job's upload the server keeps (run again): not sent again.
  appendSource(body);
  body.append('sheet', preview.sheet);
  body.append('column', column);
  const gold = $('gold-column', HTMLSelectElement).value;
  const withGold = gold !== '' && Number(gold) !== draft.column;
  if (withGold) body.append('goldColumn', columnValue(preview, Number(gold)));
  // A job run again keeps what the form has no field for (examples from the gold column need one).
  for (const [field, value] of Object.entries(draft.keep)) {
    if (field !== 'examplesFromGold' || withGold) body.append(field, value);
  }
  body.append('categories', $('categories', HTMLTextAreaElement).value);
  appendBanners(body, preview);
  appendMulti(body);
  const name = $('name', HTMLInputElement).value.trim();
  if (name) body.append('name', name);
  appendSettings(body);
  return { body, fileName, column, name };
}

/** @param {SubmitEvent} event */
async function startJob(event) {
  event.preventDefault();
  const form = jobForm();
  if (!form) return;
  const { body, fileName, column, name } = form;
  const sending = body.has('file') ? 'Uploading' : 'Starting from';

  const button = $('start', HTMLButtonElement);
  button.disabled = true;
  button.textContent = 'Starting…';
  $('form-status').textContent = `${sending} ${fileName}…`;
  try {
    let started = await createJob(body);
    if ('duplicate' in started) {
      const answer = await askAboutDuplicate(started, fileName, column);
      if (answer !== 'again') {
        $('form-status').textContent = 'Not started: the same job was coded before.';
        if (answer === 'show') showCard(started.jobId);
        return;
      }
      body.set('force', 'true');
      $('form-status').textContent = `${sending} ${fileName} again…`;
      started = await createJob(body);
      if ('duplicate' in started) throw new Error('The server answered a forced start as a duplicate.');
    }
    const job = upsertJob({
      jobId: started.jobId,
      status: 'RUNNING',
      name: name || null,
      fileName,
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
    $('form-status').replaceChildren(`Started: ${column} of ${fileName}. `, link);
    announce(`Started coding ${column} of ${fileName}.`);
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
 * The server has coded this file with these settings before: code it twice, or go to that job?
 * Answers 'again', 'show', or '' (dismissed).
 * @param {DuplicateJob} duplicate
 * @param {string} fileName
 * @param {string} column
 */
async function askAboutDuplicate(duplicate, fileName, column) {
  // The earlier job may be on an older page of the list, or gone from this page's list: show it anyway.
  let job = jobs.get(duplicate.jobId);
  if (!job) {
    job = upsertJob({
      jobId: duplicate.jobId,
      status: duplicate.status,
      fileName,
      column,
      createdAt: null,
      closedAt: null,
      links: duplicate.links,
    });
    await loadDetail(job);
    renderJobs();
    watchJobs();
  }
  const status = badgeOf(job)[0].toLowerCase();
  return ask({
    title: 'Coded before',
    text:
      `This file was already coded with the same settings (job “${jobName(job)}”, ${status}). ` +
      'Code it again?',
    choices: [
      { value: 'show', label: 'Show that job' },
      { value: 'again', label: 'Code again', look: 'quiet' },
    ],
  });
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
