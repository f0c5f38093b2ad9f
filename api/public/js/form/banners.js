// @ts-check
// Step 2's banners: columns to cross the codes with (region, wave, NPS score), a numeric one in groups.

/** @import { Preview } from '../types.js' */
import { $ } from '../dom.js';
import { columnValue, findColumn } from './columns.js';

/** A grouping offered for a column whose first values are all numbers from 0 to 10 (an NPS score). */
const NPS_GROUPS = '0-6:Detractors,7-8:Passives,9-10:Promoters';

/**
 * One checkbox per column of the preview, with a groups field beside those that hold numbers.
 * @param {Preview} preview
 */
export function renderBanners(preview) {
  const list = $('by-columns');
  list.replaceChildren(
    ...preview.columns.map((column, i) => {
      const row = document.createElement('div');
      row.className = 'by-row';
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.value = String(i);
      box.id = `by-${i}`;
      const label = document.createElement('label');
      label.htmlFor = box.id;
      label.textContent = `${column.letter}: ${column.header || '(no header)'}`;
      row.append(box, label);
      const values = preview.rows.map((r) => (r.cells[i] ?? '').trim()).filter((t) => t !== '');
      if (values.length > 0 && values.every((v) => /^\d+(?:[.,]\d+)?$/.test(v))) {
        const groups = document.createElement('input');
        groups.className = 'by-groups';
        groups.dataset.col = String(i);
        groups.autocomplete = 'off';
        groups.spellcheck = false;
        groups.placeholder = 'groups, e.g. 0-6,7-8,9-10';
        groups.setAttribute('aria-label', `Groups of ${column.header || column.letter}`);
        if (values.every((v) => Number(v) <= 10)) groups.value = NPS_GROUPS;
        groups.hidden = true;
        box.addEventListener('change', () => (groups.hidden = !box.checked));
        row.append(groups);
      }
      return row;
    }),
  );
}

/**
 * Adds a `by` field per ticked column: its name as the answer column is named, `=` and its groups if any.
 * @param {FormData} body
 * @param {Preview} preview
 */
export function appendBanners(body, preview) {
  for (const box of $('by-columns').querySelectorAll('input[type="checkbox"]:checked')) {
    if (!(box instanceof HTMLInputElement)) continue;
    const groups = $('by-columns').querySelector(`.by-groups[data-col="${box.value}"]`);
    const grouping = groups instanceof HTMLInputElement ? groups.value.trim() : '';
    const column = columnValue(preview, Number(box.value));
    body.append('by', grouping ? `${column}=${grouping}` : column);
  }
}

/**
 * Ticks the banners a job was started with (`Region`, `NPS=0-6,7-8,9-10`), each found by its column name;
 * one this sheet has no column for is left out.
 * @param {Preview} preview
 * @param {readonly string[]} by
 */
export function tickBanners(preview, by) {
  for (const banner of by) {
    const cut = banner.indexOf('=');
    const i = findColumn(preview, (cut < 0 ? banner : banner.slice(0, cut)).trim());
    const box = document.getElementById(`by-${i}`);
    if (i < 0 || !(box instanceof HTMLInputElement)) continue;
    box.checked = true;
    const groups = $('by-columns').querySelector(`.by-groups[data-col="${i}"]`);
    if (groups instanceof HTMLInputElement) {
      groups.value = cut < 0 ? '' : banner.slice(cut + 1).trim();
      groups.hidden = false;
    }
  }
}
