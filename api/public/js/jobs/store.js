// What the page knows of each job: the list entry first, then the job's view and its live progress.

/** jobId → the job as the page knows it. */
export const jobs = new Map();

export function upsertJob(fields) {
  const job = jobs.get(fields.jobId) ?? { jobId: fields.jobId, progress: null, stats: null, detailed: false };
  Object.assign(job, fields);
  jobs.set(job.jobId, job);
  return job;
}

/** A `GET /jobs` entry: never turns a job we saw finish back into a running one (the list lags a little). */
export function mergeListItem(item) {
  const known = jobs.get(item.jobId);
  const newerRun = !known || !known.createdAt || (item.createdAt ?? '') > known.createdAt;
  if (known && known.status !== 'RUNNING' && item.status === 'RUNNING' && !newerRun) return;
  if (known && known.status === 'RUNNING' && item.status !== 'RUNNING') known.detailed = false;
  upsertJob({
    jobId: item.jobId,
    status: item.status,
    fileName: item.fileName ?? known?.fileName ?? null,
    column: item.column ?? known?.column ?? null,
    phase: item.phase ?? null,
    rows: item.rows ?? null,
    fallbacks: item.fallbacks ?? null,
    createdAt: item.createdAt ?? known?.createdAt ?? null,
    closedAt: item.closedAt ?? null,
    links: item.links,
  });
}

/** Newest first. */
export function sortedJobs() {
  return [...jobs.values()].sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
}
