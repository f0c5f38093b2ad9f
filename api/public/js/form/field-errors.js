// Errors shown next to the field they are about, focused so that a keyboard or screen reader lands there.

import { ApiError } from '../api.js';
import { $ } from '../dom.js';
import { SETTINGS } from './settings.js';

/** What each setting accepts, in words: replaces the API's terser detail. */
const RULES = {
  batchSize: 'Use a whole number from 1 to 200, or “auto”.',
  concurrency: 'Use a whole number from 1 to 200.',
  temperature: 'Use a number from 0 to 2, such as 0.1.',
  model: 'Use a model name such as gpt-4o-mini.',
  parallel: 'Choose on or off.',
};
/** Where a problem's `field` is shown, and what gets the focus. */
const FIELD_TARGETS = {
  file: ['file-error', 'file'],
  column: ['column-error', null],
  sheet: ['sheet-error', 'sheet'],
  categories: ['categories-error', 'categories'],
  ...Object.fromEntries(SETTINGS.map((name) => [name, [`${name}-error`, name]])),
};

export function clearErrors() {
  for (const [errorId, inputId] of Object.values(FIELD_TARGETS)) {
    $(errorId).hidden = true;
    $(errorId).textContent = '';
    if (inputId) $(inputId).removeAttribute('aria-invalid');
  }
  $('form-error').hidden = true;
  $('form-error').textContent = '';
}

/** Shows `message` next to `field` (or above the Start button when the page has no such field). */
export function fieldError(field, message, focus = true) {
  let target = FIELD_TARGETS[field];
  if (field === 'sheet' && $('sheet-field').hidden) target = FIELD_TARGETS.column;
  const [errorId, inputId] = target ?? ['form-error', null];
  const box = $(errorId);
  box.textContent = message;
  box.hidden = false;
  if (SETTINGS.includes(field)) $('settings').open = true;
  const input = inputId ? $(inputId) : field === 'column' ? firstColumnButton() : null;
  if (inputId) $(inputId).setAttribute('aria-invalid', 'true');
  if (focus) (input ?? box).focus?.();
  if (!input && focus) box.scrollIntoView({ block: 'nearest' });
}

/** A problem from the API, in plain words, next to the field it is about. */
export function showProblem(error, fallbackField) {
  if (!(error instanceof ApiError)) {
    fieldError(fallbackField ?? 'form', `Something went wrong in the page: ${error.message}`);
    return;
  }
  const field = error.field && FIELD_TARGETS[error.field] ? error.field : fallbackField;
  let message = error.message;
  if (error.field && RULES[error.field]) {
    const given = /^\w+=("(?:[^"\\]|\\.)*")/.exec(message)?.[1];
    message = `${given ? `“${JSON.parse(given)}” is not allowed here. ` : ''}${RULES[error.field]}`;
  }
  if (error.status === 413) message = error.message.replace(/ \(MAX_UPLOAD_MB\)/, '');
  fieldError(field ?? 'form', message);
}

/** The picked column's header button (else the first): where a column error puts the focus. */
function firstColumnButton() {
  const buttons = [...$('preview-table').querySelectorAll('th button')];
  return buttons.find((b) => b.getAttribute('aria-pressed') === 'true') ?? buttons[0] ?? null;
}
