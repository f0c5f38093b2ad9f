// @ts-check
// Server-Sent Events read from a fetch body (EventSource cannot send the bearer token).

/**
 * @typedef {object} ServerSentEvent
 * @property {string} event the `event:` field; `message` when there is none
 * @property {string} data the `data:` lines, joined by newlines
 * @property {number} retry the `retry:` field in ms; 0 when there is none
 */

/**
 * The events of a `text/event-stream` body, comments and ids skipped.
 * @param {ReadableStream<Uint8Array<ArrayBuffer>>} body a fetch body
 * @returns {AsyncGenerator<ServerSentEvent, void, undefined>}
 */
export async function* serverSentEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  /** @type {{ event: string; data: string[]; retry: number }} */
  let event = { event: 'message', data: [], retry: 0 };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, end).replace(/\r$/, '');
        buffer = buffer.slice(end + 1);
        if (line === '') {
          if (event.data.length > 0)
            yield { event: event.event, data: event.data.join('\n'), retry: event.retry };
          else if (event.event !== 'message') yield { event: event.event, data: '', retry: event.retry };
          event = { event: 'message', data: [], retry: 0 };
        } else if (!line.startsWith(':')) {
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          const text = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event.event = text;
          else if (field === 'data') event.data.push(text);
          else if (field === 'retry' && /^\d+$/.test(text)) event.retry = Number(text);
        }
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
