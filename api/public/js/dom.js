// @ts-check
// DOM helpers shared by the page's modules.

/**
 * The element with this id, checked to be a `type` (an HTMLElement when not given): when the page and its
 * modules disagree, this says which element, instead of a TypeError on some property later.
 * @template {HTMLElement} [T=HTMLElement]
 * @param {string} id
 * @param {new () => T} [type]
 * @returns {T}
 */
export function $(id, type) {
  const el = document.getElementById(id);
  if (!(el instanceof (type ?? HTMLElement)))
    throw new Error(`#${id}: no such ${(type ?? HTMLElement).name}`);
  return /** @type {T} */ (el); // T is HTMLElement when no type is given
}

/**
 * The first element under `root` that matches `selector`, checked like `$`.
 * @template {Element} [T=HTMLElement]
 * @param {ParentNode} root
 * @param {string} selector
 * @param {new () => T} [type]
 * @returns {T}
 */
export function find(root, selector, type) {
  const el = root.querySelector(selector);
  if (!(el instanceof (type ?? HTMLElement)))
    throw new Error(`${selector}: no such ${(type ?? HTMLElement).name}`);
  return /** @type {T} */ (el); // T is HTMLElement when no type is given
}

/**
 * @param {string} className
 * @param {string} text
 */
export function span(className, text) {
  const el = document.createElement('span');
  el.className = className;
  el.textContent = text;
  return el;
}

/**
 * Says `text` to screen readers through the page's polite live region.
 * @param {string} text
 */
export function announce(text) {
  const live = $('announce');
  live.textContent = '';
  requestAnimationFrame(() => (live.textContent = text));
}

/**
 * Disables `control` while `work` runs.
 * @param {HTMLElement} control
 * @param {() => Promise<void>} work
 */
export async function busy(control, work) {
  control.setAttribute('aria-disabled', 'true');
  if ('disabled' in control) control.disabled = true;
  try {
    await work();
  } finally {
    control.removeAttribute('aria-disabled');
    if ('disabled' in control) control.disabled = false;
  }
}

/**
 * Hands a fetched file to the browser's downloads.
 * @param {Blob} blob
 * @param {string} name
 */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
