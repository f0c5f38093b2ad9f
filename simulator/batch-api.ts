import type { BatchQueue } from './batch.js';
import { BATCH_ENDPOINT } from './batch.js';
import type { FileStore } from './files.js';
import { fileObject, parseUpload } from './files.js';
import { BAD_JSON_MESSAGE, errorBody, unixSeconds } from './protocol.js';
import type { StatsRecorder } from './stats.js';

export interface BatchApiRequest {
  readonly method: string;
  readonly pathname: string;
  readonly query: URLSearchParams;
  /** Undefined when the body was larger than an upload may be. */
  readonly body: Buffer | undefined;
  readonly contentType: string | undefined;
  /** `performance.now()`. */
  readonly now: number;
}

/** JSON, or a file's raw bytes. */
export type BatchApiReply =
  { readonly status: number; readonly json: unknown } | { readonly status: number; readonly bytes: Buffer };

const METADATA = { maxPairs: 16, maxKey: 64, maxValue: 512 };

function invalid(message: string, param: string | null = null, status = 400): BatchApiReply {
  return { status, json: errorBody(message, 'invalid_request_error', null, param) };
}

const noFile = (id: string) => invalid(`No such File object: ${id}`, 'id', 404);
const noBatch = (id: string) => invalid(`No batch found with id '${id}'.`, null, 404);

/**
 * `/v1/files` and `/v1/batches` as OpenAI serves them for the Batch API: upload, retrieve, content, delete
 * and list files; create, retrieve, list and cancel batches.
 */
export class BatchApi {
  constructor(
    private readonly files: FileStore,
    private readonly batches: BatchQueue,
    private readonly stats: StatsRecorder,
  ) {}

  /** The reply, or undefined for a path this API does not serve. */
  async handle(request: BatchApiRequest): Promise<BatchApiReply | undefined> {
    const { method, now } = request;
    const [, version, resource, rawId, action, ...rest] = request.pathname.split('/');
    if (version !== 'v1' || rest.length > 0) return undefined;
    const id = rawId === undefined ? undefined : decodeURIComponent(rawId);
    if (resource === 'files') {
      if (id === undefined || id === '') {
        if (method === 'POST') return this.upload(request);
        if (method === 'GET') return this.listFiles(request.query);
        return undefined;
      }
      const file = this.files.get(id);
      if (action === undefined && method === 'GET') return file ? json(fileObject(file)) : noFile(id);
      if (action === undefined && method === 'DELETE') {
        if (!this.files.delete(id)) return noFile(id);
        this.stats.batchEvent('filesDeleted');
        return json({ id, object: 'file', deleted: true });
      }
      if (action === 'content' && method === 'GET')
        return file ? { status: 200, bytes: file.content } : noFile(id);
      return undefined;
    }
    if (resource === 'batches') {
      if (id === undefined || id === '') {
        if (method === 'POST') return this.create(request);
        if (method === 'GET') return page(this.batches.list(now), request.query, 20, 100);
        return undefined;
      }
      if (action === undefined && method === 'GET') {
        const batch = this.batches.get(id, now);
        return batch ? json(batch) : noBatch(id);
      }
      if (action === 'cancel' && method === 'POST') {
        const result = this.batches.cancel(id, now);
        if (result.ok) return json(result.batch);
        if (result.status === undefined) return noBatch(id);
        return invalid(`Cannot cancel a batch with status '${result.status}'.`, null, 409);
      }
    }
    return undefined;
  }

  private async upload({ body, contentType, now }: BatchApiRequest): Promise<BatchApiReply> {
    if (body === undefined) {
      return invalid('File is too large. The Batch API takes input files of at most 200 MB.', 'file');
    }
    const upload = await parseUpload(body, contentType);
    if (!upload.ok) return invalid(upload.message, upload.param);
    const file = this.files.add(upload.filename, 'batch', upload.content, unixSeconds(now));
    this.stats.batchEvent('filesCreated');
    return json(fileObject(file));
  }

  private listFiles(query: URLSearchParams): BatchApiReply {
    const purpose = query.get('purpose');
    const order = query.get('order') ?? 'desc';
    if (order !== 'asc' && order !== 'desc') {
      return invalid(`Invalid 'order': expected 'asc' or 'desc', got '${order}'.`, 'order');
    }
    const files = this.files.list().filter((file) => purpose === null || file.purpose === purpose);
    if (order === 'desc') files.reverse();
    return page(files.map(fileObject), query, 10_000, 10_000);
  }

  private create({ body, now }: BatchApiRequest): BatchApiReply {
    let params: unknown;
    try {
      params = JSON.parse(body?.toString('utf8') ?? '');
    } catch {
      return invalid(BAD_JSON_MESSAGE);
    }
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      return invalid('The request body must be a JSON object.');
    }
    const { input_file_id, endpoint, completion_window, metadata } = params as Record<string, unknown>;
    for (const [name, value] of [
      ['input_file_id', input_file_id],
      ['endpoint', endpoint],
      ['completion_window', completion_window],
    ] as const) {
      if (value === undefined || value === null)
        return invalid(`Missing required parameter: '${name}'.`, name);
    }
    if (typeof input_file_id !== 'string')
      return invalid("Invalid 'input_file_id': expected a string.", 'input_file_id');
    if (endpoint !== BATCH_ENDPOINT) {
      const message = `Invalid value: '${String(endpoint)}'. The simulator runs batches for '${BATCH_ENDPOINT}' only.`;
      return invalid(message, 'endpoint');
    }
    if (completion_window !== '24h') {
      return invalid(
        `Invalid value: '${String(completion_window)}'. Supported values are: '24h'.`,
        'completion_window',
      );
    }
    const checked = checkMetadata(metadata);
    if (typeof checked === 'string') return invalid(checked, 'metadata');
    const file = this.files.get(input_file_id);
    if (file === undefined) return invalid(`No such File object: ${input_file_id}`, 'input_file_id', 404);
    if (file.purpose !== 'batch') {
      return invalid(`Invalid 'input_file_id': ${input_file_id} must have purpose 'batch'.`, 'input_file_id');
    }
    return json(this.batches.create(file, checked, now));
  }
}

function json(value: unknown): BatchApiReply {
  return { status: 200, json: value };
}

/** OpenAI's limits on metadata: the map (or null), or what is wrong with it. */
function checkMetadata(metadata: unknown): Record<string, string> | null | string {
  if (metadata === undefined || metadata === null) return null;
  if (typeof metadata !== 'object' || Array.isArray(metadata))
    return "Invalid 'metadata': expected an object.";
  const entries = Object.entries(metadata);
  if (entries.length > METADATA.maxPairs) {
    return `Invalid 'metadata': too many properties. Expected an object with at most ${METADATA.maxPairs} properties, but got an object with ${entries.length} properties instead.`;
  }
  const checked: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (key.length > METADATA.maxKey) {
      return `Invalid 'metadata': key '${key}' is longer than ${METADATA.maxKey} characters.`;
    }
    if (typeof value !== 'string') return `Invalid 'metadata.${key}': expected a string.`;
    if (value.length > METADATA.maxValue) {
      return `Invalid 'metadata.${key}': string too long. Expected a string with maximum length ${METADATA.maxValue}, but got a string with length ${value.length} instead.`;
    }
    checked[key] = value;
  }
  return checked;
}

/** A cursor page: the items after `after` (an id), at most `limit` of them. */
function page<T extends { id: string }>(
  items: readonly T[],
  query: URLSearchParams,
  defaultLimit: number,
  maxLimit: number,
): BatchApiReply {
  const rawLimit = query.get('limit');
  const limit = rawLimit === null ? defaultLimit : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) {
    return invalid(`Invalid 'limit': expected an integer from 1 to ${maxLimit}, got '${rawLimit}'.`, 'limit');
  }
  const after = query.get('after');
  let start = 0;
  if (after !== null) {
    const index = items.findIndex((item) => item.id === after);
    if (index === -1) return invalid(`Invalid 'after': no object with id '${after}'.`, 'after');
    start = index + 1;
  }
  const data = items.slice(start, start + limit);
  return json({
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: start + limit < items.length,
  });
}
