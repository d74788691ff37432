/**
 * A URL fit for messages and logs: scheme, host, port and path only. User info (credentials),
 * query and fragment may hold secrets and are left out.
 * @example displayUrl('https://user:s3cret@collector.example:4318/v1/traces?token=abc') // 'https://collector.example:4318/v1/traces'
 * @example displayUrl('https://${secret:host}/mcp?k=v') // 'https://${secret:host}/mcp' (not a parsable URL: cut by hand)
 */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1').replace(/[?#].*$/s, '');
  }
}
