// @ts-check
// The optional settings: the server's defaults as placeholders, and what the form sends.

import { getSettings } from '../api.js';
import { $ } from '../dom.js';

/**
 * The settings' field names: each is an input (or select) id and a form field of `POST /jobs`.
 * @type {readonly string[]}
 */
export const SETTINGS = ['batchSize', 'concurrency', 'parallel', 'model', 'temperature'];

/** @param {string} name */
function settingField(name) {
  const field = $(name);
  if (field instanceof HTMLInputElement || field instanceof HTMLSelectElement) return field;
  throw new Error(`#${name}: not an input or a select`);
}

/** The server's defaults as placeholders, so "leave empty" says what it means. */
export async function loadSettings() {
  const settings = await getSettings().catch(() => null);
  if (!settings) return;
  const d = settings.defaults;
  $('batchSize', HTMLInputElement).placeholder = `default: ${d.batchSize}`;
  $('concurrency', HTMLInputElement).placeholder = `default: ${d.concurrency}`;
  $('concurrency', HTMLInputElement).max = String(settings.limits.maxConcurrency);
  $('model', HTMLInputElement).placeholder = `default: ${d.model}`;
  $('temperature', HTMLInputElement).placeholder = `default: ${d.temperature}`;
  const serverDefault = $('parallel', HTMLSelectElement).options[0];
  if (serverDefault) serverDefault.textContent = `Server default (${d.parallel ? 'on' : 'off'})`;
}

/**
 * Adds the settings given (the others stay the server's defaults).
 * @param {FormData} body
 */
export function appendSettings(body) {
  for (const name of SETTINGS) {
    const value = settingField(name).value.trim();
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
