// DOM helpers shared by the page's modules.

export const $ = (id) => document.getElementById(id);

export function span(className, text) {
  const el = document.createElement('span');
  el.className = className;
  el.textContent = text;
  return el;
}

/** Says `text` to screen readers through the page's polite live region. */
export function announce(text) {
  const live = $('announce');
  live.textContent = '';
  requestAnimationFrame(() => (live.textContent = text));
}

/** Disables `control` while `work` runs. */
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

/** Hands a fetched file to the browser's downloads. */
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
