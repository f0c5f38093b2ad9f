// @ts-check
// "Run again with changes": the form filled from an ended job, as far as the API lets the page know it.

/** @import { Job } from '../jobs/store.js' */
import { $ } from '../dom.js';
import { draft } from './draft.js';

/**
 * Fills the name, remembers the column to pick when the file is read, and asks for the file: the server
 * keeps the job's upload but offers no way to take it back, so it must be chosen again.
 * @param {Job} job
 */
export function runAgain(job) {
  $('name', HTMLInputElement).value = job.name ?? '';
  draft.wantColumn = job.column;
  const note = $('again-note');
  note.textContent =
    `To run “${job.name || job.fileName || job.jobId}” again, choose ${job.fileName ? `“${job.fileName}”` : 'its file'} ` +
    `again: the page cannot take a file back from the server.` +
    (job.column ? ` The column “${job.column}” is picked once the file is read.` : '') +
    ' The sheet, categories and settings are not copied from the job: check them below.';
  note.hidden = false;
  const still = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  $('new-title').scrollIntoView({ behavior: still ? 'auto' : 'smooth', block: 'start' });
  $('file').focus({ preventScroll: true });
}
