// The job being put together: the file, its preview and the column picked.

export const draft = {
  file: null,
  preview: null,
  /** The index of the picked column in `preview.columns`; -1 for none. */
  column: -1,
  /** The column was picked by the page (the longest texts), not by a click. */
  guessed: false,
  /** Counts previews asked for: only the answer to the latest one is shown. */
  seq: 0,
};
