import fs from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { CodeframeService } from '../../jobs/codeframes.js';
import { createCodeframeService } from '../../jobs/codeframes.js';
import type { JobStore } from '../../lib/store.js';
import { inspectColumn } from '../../sheets/index.js';
import type { ThemedAnswer } from '../../simulator/themes.js';
import { THEME_CATALOGUE, themeOfAnswer } from '../../simulator/themes.js';

export function codeframeService(client: Client, store: JobStore, taskQueue: string): CodeframeService {
  return createCodeframeService({ client, store, taskQueue, searchAttributes: true, inspect: inspectColumn });
}

/**
 * Each catalogue theme's true share among the answers to code (placeholders such as "n/a" are not
 * answers), as the simulator's keyword rule assigns them.
 */
export function trueShares(answers: ReadonlyArray<string | null>): Map<string, number> {
  const texts = answers.filter((a): a is string => a !== null && !/^(n\/a|-|\?)$/i.test(a.trim()));
  const counts = new Map<string, number>();
  for (const text of texts) {
    const key = themeOfAnswer(text)?.key;
    if (key) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return new Map(THEME_CATALOGUE.map((t) => [t.key, (counts.get(t.key) ?? 0) / texts.length]));
}

/** Answers with the themes the simulator knows, plus a few placeholders that are no answers. */
export function surveyAnswers(generated: readonly ThemedAnswer[]): string[] {
  return generated.map((a, i) => (i % 250 === 7 ? 'n/a' : a.text));
}

/** The JSON files under a draft's folder, by relative path: what was stored, and when it changed. */
export async function storedFiles(store: JobStore, id: string, under: string): Promise<Map<string, string>> {
  const dir = path.join(store.dir(id), under);
  const files = new Map<string, string>();
  for (const f of await fs.readdir(dir).catch(() => [])) {
    if (f.endsWith('.json')) files.set(f, await fs.readFile(path.join(dir, f), 'utf8'));
  }
  return files;
}
