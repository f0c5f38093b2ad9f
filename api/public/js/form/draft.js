// @ts-check
// The job being put together: the file (or the upload of a job run again), its preview and the column picked.

/** @import { Preview } from '../types.js' */

/**
 * @typedef {object} Draft
 * @property {File | null} file
 * @property {{ jobId: string, fileName: string } | null} fromJob without a file: the job whose upload the
 *   server keeps, sent as `jobId` instead (run again)
 * @property {Preview | null} preview the preview of the file's sheet shown
 * @property {number} column the index of the picked column in `preview.columns`; -1 for none
 * @property {boolean} guessed the column was picked by the page (the longest texts), not by a click
 * @property {number} seq counts previews asked for: only the answer to the latest one is shown
 * @property {string | null} wantColumn the column to pick when the next preview is shown (run again)
 * @property {string | null} wantGold the human-coded column to pick when the next preview is shown (run again)
 * @property {readonly string[]} wantBanners the banners to tick when the next preview is shown (run again)
 * @property {Record<string, string>} keep settings of a job run again that the form has no field for
 *   (question, reviewModel, examplesFromGold): sent as they were
 */

/** @type {Draft} */
export const draft = {
  file: null,
  fromJob: null,
  preview: null,
  column: -1,
  guessed: false,
  seq: 0,
  wantColumn: null,
  wantGold: null,
  wantBanners: [],
  keep: {},
};

/** The name of the file the draft reads: chosen, or kept by the server for the job run again. */
export function sourceName() {
  return draft.file?.name ?? draft.fromJob?.fileName ?? null;
}

/**
 * Adds the file the draft reads to a form: the chosen file, else the `jobId` whose upload the server keeps.
 * @param {FormData} body
 */
export function appendSource(body) {
  if (draft.file) body.append('file', draft.file);
  else if (draft.fromJob) body.append('jobId', draft.fromJob.jobId);
}
