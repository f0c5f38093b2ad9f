// The optional settings: the server's defaults as placeholders, and what the form sends.

import { getSettings } from '../api.js';
import { $ } from '../dom.js';

/** The settings' field names: each is an input (or select) id and a form field of `POST /jobs`. */
export const SETTINGS = ['batchSize', 'concurrency', 'parallel', 'model', 'temperature'];

/** The server's defaults as placeholders, so "leave empty" says what it means. */
export async function loadSettings() {
  const settings = await getSettings().catch(() => null);
  if (!settings) return;
  const d = settings.defaults;
  $('batchSize').placeholder = `default: ${d.batchSize}`;
  $('concurrency').placeholder = `default: ${d.concurrency}`;
  $('concurrency').max = String(settings.limits.maxConcurrency);
  $('model').placeholder = `default: ${d.model}`;
  $('temperature').placeholder = `default: ${d.temperature}`;
  $('parallel').options[0].textContent = `Server default (${d.parallel ? 'on' : 'off'})`;
}

/** Adds the settings given (the others stay the server's defaults). */
export function appendSettings(body) {
  for (const name of SETTINGS) {
    const value = $(name).value.trim();
    if (value) body.append(name, value);
  }
}

/** Editing a setting clears its error. */
export function wireSettings() {
  for (const name of SETTINGS) {
    $(name).addEventListener('input', () => {
      $(`${name}-error`).hidden = true;
      $(name).removeAttribute('aria-invalid');
    });
  }
}
