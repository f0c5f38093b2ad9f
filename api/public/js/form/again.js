// @ts-check
// "Run again with changes": the form filled from an ended job as it was started, on the upload the server
// keeps (`jobId`), unless the analyst chooses another file.

/** @import { Job } from '../jobs/store.js' */
/** @import { JobStart } from '../types.js' */
import { getJob } from '../api.js';
import { $ } from '../dom.js';
import { updateCategoryCount } from './categories.js';
import { draft } from './draft.js';
import { showStoredFile } from './drop-zone.js';
import { clearErrors } from './field-errors.js';
import { setMulti } from './multi.js';
import { loadPreview } from './preview.js';
import { updateSuggestButton } from './suggest.js';

/**
 * Fills the form from what the job was started with and previews its stored upload. A job whose view does
 * not say (its files gone, or the server older) fills the name only, and the file must be chosen again.
 * @param {Job} job
 */
export async function runAgain(job) {
  const label = job.name || job.fileName || job.jobId;
  const note = $('again-note');
  note.textContent = `Reading how “${label}” was started…`;
  note.hidden = false;
  const still = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  $('new-title').scrollIntoView({ behavior: still ? 'auto' : 'smooth', block: 'start' });
  const view = await getJob(job.jobId).catch(() => null);
  const start = view?.startedWith;
  $('name', HTMLInputElement).value = start?.name ?? job.name ?? '';
  if (!start || !view.fileName) {
    draft.wantColumn = job.column;
    draft.keep = {};
    note.textContent =
      `To run “${label}” again, choose ${job.fileName ? `“${job.fileName}”` : 'its file'} again: ` +
      'the server does not say how this job was started.' +
      (job.column ? ` The column “${job.column}” is picked once the file is read.` : '') +
      ' The sheet, categories and settings are not copied from the job: check them below.';
    $('file').focus({ preventScroll: true });
    return;
  }
  fillForm(start);
  clearErrors();
  draft.file = null;
  draft.fromJob = { jobId: job.jobId, fileName: view.fileName };
  draft.preview = null;
  draft.column = -1;
  draft.wantColumn = start.column;
  draft.wantGold = start.goldColumn ?? null;
  draft.wantBanners = start.by ?? [];
  $('file', HTMLInputElement).value = '';
  showStoredFile(view.fileName);
  updateSuggestButton();
  note.textContent =
    `Runs again on “${view.fileName}”, as the server keeps it from the job “${label}”: ` +
    'choose another file above to code that one instead. The sheet, column, categories and settings are ' +
    'the job’s: change what you want below, then start.' +
    (start.categories === undefined ? ' The job’s categories were not kept: enter them again.' : '');
  $('file').focus({ preventScroll: true });
  await loadPreview(start.sheet);
}

/**
 * The categories and settings as the job had them; what the form has no field for is kept as it was.
 * @param {JobStart} start
 */
function fillForm(start) {
  if (start.categories !== undefined) {
    $('categories', HTMLTextAreaElement).value = start.categories;
    updateCategoryCount();
  }
  $('batchSize', HTMLInputElement).value = String(start.batchSize);
  $('concurrency', HTMLInputElement).value = String(start.concurrency);
  $('model', HTMLInputElement).value = start.model;
  $('temperature', HTMLInputElement).value = String(start.temperature);
  $('parallel', HTMLSelectElement).value = String(start.parallel);
  $('maxCost', HTMLInputElement).value = start.maxCost === undefined ? '' : String(start.maxCost);
  if (start.batchApi !== undefined) $('batchApi', HTMLInputElement).checked = start.batchApi;
  if (start.multi !== undefined) setMulti(start.multi, start.maxCodes);
  /** @type {Record<string, string>} */
  const keep = {};
  if (start.question !== undefined) keep.question = start.question;
  if (start.reviewModel !== undefined) keep.reviewModel = start.reviewModel;
  if (start.examplesFromGold !== undefined) keep.examplesFromGold = String(start.examplesFromGold);
  draft.keep = keep;
}
