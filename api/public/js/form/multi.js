// @ts-check
// Step 3's switch: one category per answer, or several (multi-code), with at most how many.

import { $ } from '../dom.js';

/** @import { Settings } from '../types.js' */

/**
 * The switch starts as the server's default (MULTI_CODE), with MAX_CODES as the field's placeholder.
 * @param {Settings} settings
 */
export function showMultiDefaults(settings) {
  const multi = $('multi', HTMLInputElement);
  const maxCodes = $('maxCodes', HTMLInputElement);
  multi.checked = settings.defaults.multi;
  maxCodes.placeholder = `default: ${settings.defaults.maxCodes}`;
  maxCodes.max = String(settings.limits.maxCodes);
  syncMaxCodes();
}

/** The maximum means something only with the switch on: off, it is neither editable nor sent. */
function syncMaxCodes() {
  const on = $('multi', HTMLInputElement).checked;
  $('maxCodes', HTMLInputElement).disabled = !on;
  $('maxCodes-field').hidden = !on;
}

/**
 * The switch is always sent, so it wins over the server's default either way; the maximum only when given.
 * @param {FormData} body
 */
export function appendMulti(body) {
  const on = $('multi', HTMLInputElement).checked;
  body.append('multi', String(on));
  const max = $('maxCodes', HTMLInputElement).value.trim();
  if (on && max) body.append('maxCodes', max);
}

/**
 * The switch and the maximum as a job had them (run again).
 * @param {boolean} on
 * @param {number | undefined} max
 */
export function setMulti(on, max) {
  $('multi', HTMLInputElement).checked = on;
  $('maxCodes', HTMLInputElement).value = max === undefined ? '' : String(max);
  syncMaxCodes();
}

export function wireMulti() {
  $('multi').addEventListener('change', syncMaxCodes);
  for (const name of ['multi', 'maxCodes']) {
    $(name).addEventListener('input', () => {
      $(`${name}-error`).hidden = true;
      $(name).removeAttribute('aria-invalid');
    });
  }
  syncMaxCodes();
}
