import { Context } from '@temporalio/activity';

/** How often a running activity tells the server it is alive (the heartbeat timeout is seconds). */
const HEARTBEAT_MS = 1_000;

/** Runs `fn` while heartbeating, so a killed worker's activity is handed to another within seconds. */
export async function withHeartbeat<T>(fn: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  // No heartbeat at the start: the heartbeat timeout already counts from the start, and a batch that
  // answers within the first second then costs the server no heartbeat write at all.
  const timer = setInterval(() => ctx.heartbeat(), HEARTBEAT_MS);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}
