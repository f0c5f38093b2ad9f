import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { serve } from '@hono/node-server';
import type { Logger } from '../lib/logger.js';

export interface ApiServer {
  readonly url: string;
  /** Stops accepting connections, ends open event streams (browsers reconnect elsewhere), then closes. */
  close(): Promise<void>;
}

/**
 * Serves the Hono app on HOST:PORT. Shutdown drains: the `shutdown` controller aborts the event streams,
 * which tell their browsers to reconnect; the server waits for them (at most `drainMs`) before it closes.
 */
export async function listen(options: {
  app: { fetch: (request: Request) => Response | Promise<Response> };
  host: string;
  port: number;
  shutdown: AbortController;
  sse: { open: number };
  logger?: Logger;
  drainMs?: number;
}): Promise<ApiServer> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: options.app.fetch, hostname: options.host, port: options.port }, () =>
      resolve(s as Server),
    );
    (s as Server).once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`;
  return {
    url,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      options.shutdown.abort();
      const deadline = Date.now() + (options.drainMs ?? 5_000);
      while (options.sse.open > 0 && Date.now() < deadline) await sleep(50);
      server.closeIdleConnections();
      if (options.sse.open > 0) {
        options.logger?.warn(
          { open: options.sse.open },
          'event streams still open after the drain time: closing them',
        );
      }
      server.closeAllConnections();
      await closed;
    },
  };
}
