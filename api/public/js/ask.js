// @ts-check
// A question in the page's own modal dialog (not window.confirm: it is styled, labelled and testable).

import { $ } from './dom.js';

/**
 * @typedef {object} Choice
 * @property {string} value what `ask` answers when it is picked
 * @property {string} label
 * @property {'primary' | 'danger' | 'quiet'} [look]
 */

/**
 * Asks `text` under `title`; answers the value of the choice picked, or '' when dismissed (Escape or
 * Cancel). The first choice gets the focus, or Cancel when that choice destroys; Cancel is always offered.
 * @param {{ title: string; text: string; choices: readonly Choice[] }} question
 * @returns {Promise<string>}
 */
export function ask({ title, text, choices }) {
  const dialog = $('ask-dialog', HTMLDialogElement);
  $('ask-title').textContent = title;
  $('ask-text').textContent = text;
  const buttons = [...choices, { value: '', label: 'Cancel', look: 'quiet' }].map((choice) => {
    const button = document.createElement('button');
    button.type = 'submit';
    button.value = choice.value;
    button.textContent = choice.label;
    button.className = choice.look === 'danger' ? 'quiet danger' : (choice.look ?? 'primary');
    return button;
  });
  $('ask-actions').replaceChildren(...buttons);
  dialog.returnValue = '';
  // The focus goes back where it was: the button that asked, so a keyboard carries on from there.
  const before = document.activeElement;
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        if (before instanceof HTMLElement && before.isConnected) before.focus();
        resolve(dialog.returnValue);
      },
      { once: true },
    );
    dialog.showModal();
    // A destructive choice is never the default: Enter or a stray click then cancels.
    (choices[0]?.look === 'danger' ? buttons.at(-1) : buttons[0])?.focus();
  });
}
