// @ts-check
// Step 3: the categories, one per line, typed or loaded from a text file.

import { $ } from '../dom.js';

/**
 * The category names of the text field, as the server reads them (`Name` or `Name: description`).
 * @param {string} text
 */
export function categoryNames(text) {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) =>
      line
        .replace(/^(?:[-*•]|\d+[.)])\s+/u, '')
        .replace(/:.*/su, '') // the description
        .trim(),
    );
}

export function updateCategoryCount() {
  const names = categoryNames($('categories', HTMLTextAreaElement).value);
  const hasOther = names.some((n) => n.toLowerCase() === 'other');
  $('categories-count').textContent =
    names.length === 0
      ? 'No categories yet.'
      : `${names.length} ${names.length === 1 ? 'category' : 'categories'}${hasOther ? '' : ', plus Other'}.`;
}

export function wireCategories() {
  const categories = $('categories', HTMLTextAreaElement);
  categories.addEventListener('input', () => {
    updateCategoryCount();
    $('categories-error').hidden = true;
    categories.removeAttribute('aria-invalid');
  });
  const fileInput = $('categories-file', HTMLInputElement);
  fileInput.addEventListener('change', () => void loadFile());
  async function loadFile() {
    const file = fileInput.files?.[0];
    if (!file) return;
    categories.value = await file.text();
    fileInput.value = '';
    updateCategoryCount();
    categories.focus();
  }
}
