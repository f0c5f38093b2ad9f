import { randomBytes } from 'node:crypto';

/** OpenAI's limit on a Batch API input file. */
export const MAX_BATCH_FILE_BYTES = 200 * 1024 * 1024;

/** What an upload may take in all: the file plus the multipart envelope around it. */
export const MAX_UPLOAD_BYTES = MAX_BATCH_FILE_BYTES + 1024 * 1024;

/** `batch` for uploads; `batch_output` for the output and error files the simulator writes. */
export type FilePurpose = 'batch' | 'batch_output';

export interface StoredFile {
  readonly id: string;
  readonly filename: string;
  readonly purpose: FilePurpose;
  /** Unix seconds. */
  readonly createdAt: number;
  readonly content: Buffer;
}

/** The file object OpenAI returns from upload, retrieve and list. */
export function fileObject(file: StoredFile) {
  return {
    id: file.id,
    object: 'file' as const,
    bytes: file.content.length,
    created_at: file.createdAt,
    filename: file.filename,
    purpose: file.purpose,
    status: 'processed' as const,
    expires_at: null,
    status_details: null,
  };
}

/** The files of one simulator, in memory, oldest first. */
export class FileStore {
  private readonly files = new Map<string, StoredFile>();

  add(filename: string, purpose: FilePurpose, content: Buffer, createdAt: number): StoredFile {
    const file = { id: `file-${randomBytes(12).toString('hex')}`, filename, purpose, createdAt, content };
    this.files.set(file.id, file);
    return file;
  }

  get(id: string): StoredFile | undefined {
    return this.files.get(id);
  }

  delete(id: string): boolean {
    return this.files.delete(id);
  }

  list(): StoredFile[] {
    return [...this.files.values()];
  }
}

export type Upload =
  | { readonly ok: true; readonly filename: string; readonly content: Buffer }
  | { readonly ok: false; readonly message: string; readonly param: string | null };

/**
 * Reads `POST /v1/files` (multipart/form-data: `file`, `purpose`) with OpenAI's 400 messages. Only Batch API
 * input is taken: purpose `batch`, a `.jsonl` file of at most 200 MB.
 */
export async function parseUpload(body: Buffer, contentType: string | undefined): Promise<Upload> {
  let form: FormData;
  try {
    // undici's multipart parser, the one `fetch` uses: no parser of our own to get wrong.
    const request = new Request('http://simulator/v1/files', {
      method: 'POST',
      headers: { 'content-type': contentType ?? '' },
      body,
    });
    form = await request.formData();
  } catch {
    return {
      ok: false,
      message: 'The body must be multipart/form-data with `file` and `purpose`.',
      param: null,
    };
  }
  const file = form.get('file');
  const purpose = form.get('purpose');
  if (file === null || typeof file === 'string') {
    return { ok: false, message: "Missing required parameter: 'file'.", param: 'file' };
  }
  if (purpose === null) {
    return { ok: false, message: "Missing required parameter: 'purpose'.", param: 'purpose' };
  }
  if (purpose !== 'batch') {
    const given = typeof purpose === 'string' ? `'${purpose}'` : 'a file';
    const message = `The simulator only stores Batch API input: 'purpose' must be 'batch', not ${given}.`;
    return { ok: false, message, param: 'purpose' };
  }
  if (!file.name.toLowerCase().endsWith('.jsonl')) {
    return { ok: false, message: 'Invalid file format for Batch API. Must be .jsonl', param: 'file' };
  }
  if (file.size > MAX_BATCH_FILE_BYTES) {
    const message = `File is too large: ${file.size} bytes. The Batch API takes input files of at most 200 MB.`;
    return { ok: false, message, param: 'file' };
  }
  return { ok: true, filename: file.name, content: Buffer.from(await file.arrayBuffer()) };
}
