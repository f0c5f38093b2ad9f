// Step 3: the categories, one per line, typed or loaded from a text file.

import { $ } from '../dom.js';

/** The category names of the text field, as the server reads them (`Name` or `Name: description`). */
export function categoryNames(text) {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) =>
      line
        .replace(/^(?:[-*•]|\d+[.)])\s+/u, '')
        .split(':')[0]
        .trim(),
    );
}

export function updateCategoryCount() {
  const names = categoryNames($('categories').value);
  const hasOther = names.some((n) => n.toLowerCase() === 'other');
  $('categories-count').textContent =
    names.length === 0
      ? 'No categories yet.'
      : `${names.length} ${names.length === 1 ? 'category' : 'categories'}${hasOther ? '' : ', plus Other'}.`;
}

export function wireCategories() {
  $('categories').addEventListener('input', () => {
    updateCategoryCount();
    $('categories-error').hidden = true;
    $('categories').removeAttribute('aria-invalid');
  });
  $('categories-file').addEventListener('change', async (event) => {
    const file = event.target.files?.[0];
    if (!file) return;
    $('categories').value = await file.text();
    event.target.value = '';
    updateCategoryCount();
    $('categories').focus();
  });
}
