import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ProblemError } from './problem.js';

/**
 * Bearer-token access. Both sides are hashed first, so the comparison takes the same time whatever the
 * token's length or content. The web page and its assets carry no data and stay public: a browser cannot
 * send a header with a page load, so the page asks for the token and sends it with every API call.
 */
export function bearerAuth(
  token: string | undefined,
  publicPaths: (path: string) => boolean,
): MiddlewareHandler {
  if (!token) return async (_c, next) => next();
  const expected = digest(token);
  return async (c, next) => {
    if (publicPaths(c.req.path)) return next();
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match?.[1] || !timingSafeEqual(digest(match[1].trim()), expected)) {
      c.header('WWW-Authenticate', 'Bearer realm="verbatim"');
      throw new ProblemError(
        401,
        'unauthorized',
        match ? 'The bearer token is not valid.' : 'Send Authorization: Bearer <API_TOKEN>.',
        'authorization',
      );
    }
    return next();
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
