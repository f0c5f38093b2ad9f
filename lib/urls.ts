/**
 * A URL (or a `host:port` address) as it may be shown in a log, an error or an output file: the user name
 * and password of its authority left out, the rest as typed. A base URL may carry credentials for a proxy.
 */
export function withoutCredentials(text: string): string {
  // The authority's user info runs to its last `@` before the path, query or fragment.
  return text.replace(/^(\s*(?:[a-z][\w+.-]*:)?\/\/|\s*)[^/?#\s]*@/i, '$1');
}
