/**
 * Custom search attributes that let operators filter and sort jobs in the Temporal UI and with
 * `temporal workflow list --query "VerbatimPhase = 'classifying'"`. Registered on the embedded server at
 * start, or once on a cluster; the workflow upserts them as the job advances.
 */
export const SEARCH_ATTRIBUTES = {
  fileName: { name: 'VerbatimFileName', type: 'Keyword' },
  column: { name: 'VerbatimColumn', type: 'Keyword' },
  rows: { name: 'VerbatimRows', type: 'Int' },
  phase: { name: 'VerbatimPhase', type: 'Keyword' },
  fallbacks: { name: 'VerbatimFallbacks', type: 'Int' },
} as const;

export type SearchAttributeSpec = (typeof SEARCH_ATTRIBUTES)[keyof typeof SEARCH_ATTRIBUTES];
