/**
 * What jobs and codeframe drafts share as Temporal workflows started from a file: their ids (from the
 * content, so the same command finds the same work, or random), the uploaded file's bytes, and the status
 * of a workflow that may not exist.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import type { Client, WorkflowExecutionStatusName } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { InputFileNotFoundError } from '../domain/errors.js';

/** An upload held in memory (the API) or a file on disk (the CLI). */
export type FileSource = { readonly bytes: Uint8Array } | { readonly path: string };

/**
 * `prefix` and 20 hex digits of SHA-256 over the file and the settings as JSON. The settings' keys are hashed
 * in the order given: a caller that adds one must add it only when set, so older ids stay as they were.
 */
export function contentId(prefix: string, bytes: Uint8Array, settings: object): string {
  const hash = createHash('sha256');
  hash.update(bytes);
  hash.update(JSON.stringify(settings));
  return `${prefix}${hash.digest('hex').slice(0, 20)}`;
}

/** `prefix` and 16 random letters and digits. */
export function randomId(prefix: string): string {
  return `${prefix}${randomBytes(12)
    .toString('base64url')
    .replace(/[^A-Za-z0-9]/g, 'x')}`;
}

export async function readSource(source: FileSource): Promise<Uint8Array> {
  if ('bytes' in source) return source.bytes;
  try {
    return await fs.readFile(source.path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new InputFileNotFoundError(source.path);
    throw error;
  }
}

/** The workflow's status, or undefined when the server has no workflow of that id. */
export async function workflowStatus(
  client: Client,
  id: string,
): Promise<WorkflowExecutionStatusName | undefined> {
  try {
    return (await client.workflow.getHandle(id).describe()).status.name;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}
