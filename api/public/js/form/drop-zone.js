// @ts-check
// The file field's drop zone: what it says before and after a file is chosen.

import { $ } from '../dom.js';
import { sizeText } from '../format.js';

/** @param {File} file */
export function showChosenFile(file) {
  $('file-name').textContent = `${file.name} · ${sizeText(file.size)}`;
  $('file-hint').textContent = 'Drop another file, or click to choose another';
  $('drop').classList.add('chosen');
}

/**
 * The upload of a job run again, kept by the server, as the chosen file.
 * @param {string} fileName
 */
export function showStoredFile(fileName) {
  $('file-name').textContent = `${fileName} · the file of the job run again`;
  $('file-hint').textContent = 'Drop another file, or click to choose another';
  $('drop').classList.add('chosen');
}

/** Back to the prompt, as when the page opened. */
export function showNoFile() {
  $('drop').classList.remove('chosen');
  $('file-name').replaceChildren(...dropPrompt());
  $('file-hint').textContent = '.xlsx or .csv, one row per respondent';
}

function dropPrompt() {
  const u = document.createElement('u');
  u.textContent = 'choose a file';
  return ['Drop an Excel or CSV file here, or ', u];
}
