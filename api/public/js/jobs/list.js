// @ts-check
// The job list: the newest page of `GET /jobs`, older pages on demand, the cards in order.

import { ApiError, listJobs } from '../api.js';
import { $ } from '../dom.js';
import { renderJob } from './card.js';
import { watchJobs } from './live.js';
import { jobs, mergeListItem, sortedJobs } from './store.js';
import { loadDetails } from './view.js';

/** @type {string | null} */
let nextPageToken = null;
/** Older pages were loaded: the next page's token is theirs, not the first page's. */
let morePages = false;

export async function refreshJobs() {
  try {
    const page = await listJobs();
    const seen = new Set();
    for (const item of page.jobs) {
      if (seen.has(item.jobId)) continue; // an earlier run of the same job
      seen.add(item.jobId);
      mergeListItem(item);
    }
    if (!morePages) nextPageToken = page.nextPageToken;
    $('jobs-error').hidden = true;
  } catch (error) {
    showJobsError(error);
  }
  renderJobs();
  watchJobs();
  void loadDetails();
}

async function loadOlderJobs() {
  if (!nextPageToken) return;
  const button = $('more', HTMLButtonElement);
  button.disabled = true;
  try {
    const page = await listJobs(nextPageToken);
    for (const item of page.jobs) if (!jobs.has(item.jobId)) mergeListItem(item);
    nextPageToken = page.nextPageToken;
    morePages = true;
  } catch (error) {
    showJobsError(error);
  } finally {
    button.disabled = false;
  }
  renderJobs();
  void loadDetails();
}

/** @param {unknown} error */
function showJobsError(error) {
  const box = $('jobs-error');
  box.textContent = error instanceof ApiError ? error.message : String(error);
  box.hidden = false;
}

export function renderJobs() {
  const list = $('jobs');
  const ordered = sortedJobs();
  const cards = ordered.map((job) => renderJob(job));
  // Insert or move only the cards out of place: moving a card would take the focus from its buttons.
  cards.forEach((card, i) => {
    if (list.children[i] !== card) list.insertBefore(card, list.children[i] ?? null);
  });
  while (list.children.length > ordered.length) list.lastElementChild?.remove();
  $('jobs-empty').hidden = ordered.length > 0;
  $('more').hidden = !nextPageToken;
}

export function wireList() {
  $('refresh').addEventListener('click', () => void refreshJobs());
  $('more').addEventListener('click', () => void loadOlderJobs());
}
