// @ts-check
// Errors shown next to the field they are about, focused so that a keyboard or screen reader lands there.

import { ApiError } from '../api.js';
import { $ } from '../dom.js';
import { RULES, SETTINGS } from './settings.js';

/**
 * Where a problem's `field` is shown, and what gets the focus.
 * @type {Readonly<Record<string, readonly [errorId: string, inputId: string | null]>>}
 */
const FIELD_TARGETS = {
  file: ['file-error', 'file'],
  column: ['column-error', null],
  goldColumn: ['column-error', 'gold-column'],
  sheet: ['sheet-error', 'sheet'],
  categories: ['categories-error', 'categories'],
  multi: ['multi-error', 'multi'],
  maxCodes: ['maxCodes-error', 'maxCodes'],
  name: ['name-error', 'name'],
  by: ['by-error', null],
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

/**
 * Shows `message` next to `field` (or above the Start button when the page has no such field).
 * @param {string} field a field of the form (`file`, `column`, a setting…), or `form`
 * @param {string} message
 */
export function fieldError(field, message, focus = true) {
  let target = FIELD_TARGETS[field];
  if (field === 'sheet' && $('sheet-field').hidden) target = FIELD_TARGETS.column;
  const [errorId, inputId] = target ?? ['form-error', null];
  const box = $(errorId);
  box.textContent = message;
  box.hidden = false;
  if (SETTINGS.includes(field)) $('settings', HTMLDetailsElement).open = true;
  const input = inputId ? $(inputId) : field === 'column' ? firstColumnButton() : null;
  if (inputId) $(inputId).setAttribute('aria-invalid', 'true');
  if (focus) (input ?? box).focus();
  if (!input && focus) box.scrollIntoView({ block: 'nearest' });
}

/**
 * A problem from the API, in plain words, next to the field it is about; a refused form shows every refused
 * field at once, the focus on the first.
 * @param {unknown} error
 * @param {string} [fallbackField] where to show it when the problem names no field of the form
 */
export function showProblem(error, fallbackField) {
  if (!(error instanceof ApiError)) {
    fieldError(fallbackField ?? 'form', `Something went wrong in the page: ${messageOf(error)}`);
    return;
  }
  const each = error.errors.length > 0 ? error.errors : [{ field: error.field ?? '', detail: error.message }];
  each.forEach((problem, i) => {
    const field = problem.field && FIELD_TARGETS[problem.field] ? problem.field : fallbackField;
    let message = problem.detail;
    const rule = problem.field ? RULES[problem.field] : undefined;
    if (rule) {
      const given = /^\w+=("(?:[^"\\]|\\.)*")/.exec(message)?.[1];
      message = `${given ? `“${String(JSON.parse(given))}” is not allowed here. ` : ''}${rule}`;
    }
    if (error.status === 413) message = problem.detail.replace(/ \(MAX_UPLOAD_MB\)/, '');
    fieldError(field ?? 'form', message, i === 0);
  });
}

/**
 * Shows each problem next to its field, the focus on the first; nothing when there is none.
 * @param {ReadonlyArray<readonly [field: string, message: string]>} problems
 * @returns {boolean} whether there was any
 */
export function fieldErrors(problems) {
  problems.forEach(([field, message], i) => fieldError(field, message, i === 0));
  return problems.length > 0;
}

/** @param {unknown} error */
function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}

/** The picked column's header button (else the first): where a column error puts the focus. */
function firstColumnButton() {
  const buttons = [...$('preview-table').querySelectorAll('th button')].filter(
    (b) => b instanceof HTMLButtonElement,
  );
  return buttons.find((b) => b.getAttribute('aria-pressed') === 'true') ?? buttons[0] ?? null;
}
