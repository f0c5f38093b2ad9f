// @ts-check
// The API token (API_TOKEN): kept for this browser tab, asked for in a dialog when the server answers 401.

import { $ } from './dom.js';

const TOKEN_KEY = 'verbatim.apiToken';
let token = sessionStorage.getItem(TOKEN_KEY) ?? '';
/** @type {Promise<boolean> | undefined} */
let tokenPrompt;
let tokenDeclined = false;

/** The token to send ('' for none). */
export function currentToken() {
  return token;
}

/** Whether the person cancelled the dialog: calls then fail until they ask for it again. */
export function tokenWasDeclined() {
  return tokenDeclined;
}

/**
 * Asks for the token (one dialog, shared by every call waiting for it). True when a token was entered,
 * false when the dialog was cancelled (the "Enter the API token" button then offers it again).
 * @param {boolean} rejected the token sent was refused (else none was sent)
 * @returns {Promise<boolean>}
 */
export function askForToken(rejected) {
  tokenPrompt ??= new Promise((resolve) => {
    const dialog = $('token-dialog', HTMLDialogElement);
    const input = $('token', HTMLInputElement);
    $('token-text').textContent = rejected
      ? 'That token was not accepted. Enter the API token of this server (API_TOKEN).'
      : 'This verbatim server asks for its API token (API_TOKEN). It is kept for this browser tab only.';
    input.value = '';
    dialog.returnValue = '';
    dialog.addEventListener(
      'close',
      () => {
        tokenPrompt = undefined;
        const value = input.value.trim();
        input.value = '';
        if (dialog.returnValue === 'ok' && value) {
          token = value;
          sessionStorage.setItem(TOKEN_KEY, value);
          resolve(true);
        } else {
          tokenDeclined = true;
          $('token-button').hidden = false;
          resolve(false);
        }
      },
      { once: true },
    );
    dialog.showModal();
  });
  return tokenPrompt;
}

/**
 * The "Enter the API token" button, shown after a cancelled dialog: asks again through `retry`.
 * @param {() => void} retry
 */
export function wireTokenButton(retry) {
  $('token-button').addEventListener('click', () => {
    tokenDeclined = false;
    $('token-button').hidden = true;
    retry();
  });
}
