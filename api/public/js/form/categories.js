// @ts-check
// Step 3: the categories, one per line, typed or loaded from a text file.

import { $ } from '../dom.js';

/**
 * The category names of the text field, as the server reads them (`Name` or `Name: description`, perhaps
 * led by a code); `[Net]` lines name nets, not categories.
 * @param {string} text
 */
export function categoryNames(text) {
  return (
    text
      .split(/\r?\n/)
      .map((line) => line.trim())
      // Comments and net lines (`[Service]`) name no category.
      .filter((line) => line !== '' && !line.startsWith('#') && !/^\[.*\]$/u.test(line))
      .map((line) =>
        line
          .replace(/^(?:[-*•]|\d+[.)]?)\s+/u, '')
          .replace(/:.*/su, '') // the description
          .trim(),
      )
  );
}

/**
 * What is wrong with the categories as typed, in the words the field shows; null when they can be sent.
 * The server checks the rest (duplicates, codes, nets) and says so next to the field.
 * @param {string} text
 */
export function categoriesProblem(text) {
  const names = categoryNames(text);
  if (names.length === 0) return 'List the categories to code into, one per line.';
  if (names.every((n) => n.toLowerCase() === 'other')) {
    return '“Other” alone would code every answer the same: list the categories to code into (Other is added for what fits none).';
  }
  return null;
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
