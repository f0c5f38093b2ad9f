// @ts-check
// Step 1: the survey file, chosen or dropped anywhere on the page.

import { $ } from '../dom.js';
import { draft } from './draft.js';
import { showChosenFile } from './drop-zone.js';
import { loadPreview } from './preview.js';
import { updateSuggestButton } from './suggest.js';

/** @param {File} file */
function chooseFile(file) {
  if (draft.fromJob) {
    // The analyst chose another file: the job's upload is no longer what is coded.
    draft.fromJob = null;
    $('again-note').hidden = true;
  }
  draft.file = file;
  draft.preview = null;
  draft.column = -1;
  updateSuggestButton();
  showChosenFile(file);
  $('preview').hidden = true;
  $('preview-empty').hidden = true;
  void loadPreview();
}

export function wireFile() {
  const input = $('file', HTMLInputElement);
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (file) chooseFile(file);
  });
  const drop = $('drop');
  let depth = 0;
  window.addEventListener('dragenter', (event) => {
    if (![...(event.dataTransfer?.types ?? [])].includes('Files')) return;
    depth += 1;
    drop.classList.add('over');
  });
  window.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) drop.classList.remove('over');
  });
  window.addEventListener('dragover', (event) => event.preventDefault());
  window.addEventListener('drop', (event) => {
    event.preventDefault();
    depth = 0;
    drop.classList.remove('over');
    const file = event.dataTransfer?.files?.[0];
    if (file) chooseFile(file);
  });
}
