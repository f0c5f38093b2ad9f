// @ts-check
// The job being put together: the file, its preview and the column picked.

/** @import { Preview } from '../types.js' */

/**
 * @typedef {object} Draft
 * @property {File | null} file
 * @property {Preview | null} preview the preview of `file`'s sheet shown
 * @property {number} column the index of the picked column in `preview.columns`; -1 for none
 * @property {boolean} guessed the column was picked by the page (the longest texts), not by a click
 * @property {number} seq counts previews asked for: only the answer to the latest one is shown
 * @property {string | null} wantColumn the column to pick when the next preview is shown (run again)
 */

/** @type {Draft} */
export const draft = { file: null, preview: null, column: -1, guessed: false, seq: 0, wantColumn: null };
