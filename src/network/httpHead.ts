/**
 * The HTTP side of the egress proxy, pure: parses a request head (bounded) into a CONNECT tunnel
 * request or an absolute-form `http://` request, and rewrites the latter for the origin server
 * (origin-form target, `Host` from the URL, proxy and hop-by-hop headers dropped, `Connection:
 * close`: one request per proxied connection, so every request's destination is judged).
 */

/** The largest request head accepted (request line + headers). */
export const MAX_HEAD_BYTES = 32 * 1024;

/** What a request head asks the proxy for. */
export type ProxyRequest =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'error'; readonly status: 400 | 405 | 431; readonly message: string }
  | { readonly kind: 'connect'; readonly host: string; readonly port: number; readonly rest: Buffer }
  | { readonly kind: 'http'; readonly host: string; readonly port: number; readonly head: string; readonly rest: Buffer };

const HEAD_END = Buffer.from('\r\n\r\n');
const REQUEST_LINE = /^([A-Z]{1,20}) ([^\s]{1,8000}) HTTP\/1\.[01]$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers for this proxy hop only (RFC 9110 §7.6.1), and Host, which is rebuilt from the URL. */
const DROPPED = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'upgrade', 'host']);

/**
 * Parses the head in `buffer` (everything the client sent so far).
 * @example parseProxyRequest(Buffer.from('CONNECT api.github.com:443 HTTP/1.1\r\n\r\n')) // { kind: 'connect', host: 'api.github.com', port: 443, … }
 */
export function parseProxyRequest(buffer: Buffer): ProxyRequest {
  const end = buffer.indexOf(HEAD_END);
  if (end < 0) return buffer.length > MAX_HEAD_BYTES ? { kind: 'error', status: 431, message: `request head larger than ${MAX_HEAD_BYTES} bytes` } : { kind: 'incomplete' };
  if (end > MAX_HEAD_BYTES) return { kind: 'error', status: 431, message: `request head larger than ${MAX_HEAD_BYTES} bytes` };
  const text = buffer.subarray(0, end).toString('latin1');
  const rest = buffer.subarray(end + HEAD_END.length);
  const [requestLine = '', ...headerLines] = text.split('\r\n');
  const line = REQUEST_LINE.exec(requestLine);
  if (!line) return bad('malformed request line');
  const [, method, target] = line as unknown as [string, string, string];
  const headers: [string, string][] = [];
  for (const header of headerLines) {
    const colon = header.indexOf(':');
    const name = colon > 0 ? header.slice(0, colon) : '';
    // No obsolete line folding, no bare CR/LF or NUL inside a value: nothing a second parser could read differently.
    if (!HEADER_NAME.test(name) || /[\r\n\0]/.test(header)) return bad('malformed header line');
    headers.push([name, header.slice(colon + 1).trim()]);
  }
  if (method === 'CONNECT') {
    const authority = splitAuthority(target);
    if (!authority || authority.port === undefined) return bad('CONNECT needs host:port');
    return { kind: 'connect', host: authority.host, port: authority.port, rest };
  }
  if (!/^http:\/\//i.test(target)) {
    if (/^https:\/\//i.test(target)) return bad('send https:// requests through a CONNECT tunnel');
    return bad('this is mcpgate\'s egress proxy: send "CONNECT host:port" or an absolute-form "http://" request');
  }
  const afterScheme = target.slice('http://'.length);
  const cut = afterScheme.search(/[/?#]/);
  const rawAuthority = cut < 0 ? afterScheme : afterScheme.slice(0, cut);
  if (rawAuthority.includes('@')) return bad('credentials in the request URL (user@host) are not accepted; send an Authorization header');
  const authority = splitAuthority(rawAuthority);
  if (!authority) return bad('malformed host in the request URL');
  let path = cut < 0 ? '/' : afterScheme.slice(cut);
  path = path.split('#')[0] as string;
  if (path.startsWith('?')) path = `/${path}`;
  const port = authority.port ?? 80;
  const hostHeader = port === 80 ? bracketed(authority.host) : `${bracketed(authority.host)}:${port}`;
  const forwarded = headers.filter(([name]) => !DROPPED.has(name.toLowerCase())).map(([name, value]) => `${name}: ${value}\r\n`);
  const head = `${method} ${path} HTTP/1.1\r\nHost: ${hostHeader}\r\n${forwarded.join('')}Connection: close\r\n\r\n`;
  return { kind: 'http', host: authority.host, port, head, rest };
}

/** The proxy's own answer (an error or a refusal): a complete response that closes the connection. */
export function proxyResponse(status: number, reason: string, body: string, extra: Record<string, string> = {}): Buffer {
  const payload = Buffer.from(`${body}\n`, 'utf8');
  const headers = Object.entries({ 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(payload.length), Connection: 'close', ...extra })
    .map(([name, value]) => `${name}: ${value.replace(/[\r\n]/g, ' ')}\r\n`)
    .join('');
  return Buffer.concat([Buffer.from(`HTTP/1.1 ${status} ${reason}\r\n${headers}\r\n`, 'latin1'), payload]);
}

/** `host:port`, `[v6]:port`, or `host` (port undefined); undefined when malformed. */
function splitAuthority(text: string): { host: string; port?: number } | undefined {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return undefined;
    host = text.slice(1, close);
    const after = text.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return undefined;
    portText = after === '' ? undefined : after.slice(1);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon >= 0 && text.indexOf(':') !== colon) return undefined; // an IPv6 literal must be bracketed
    host = colon < 0 ? text : text.slice(0, colon);
    portText = colon < 0 ? undefined : text.slice(colon + 1);
  }
  if (host === '') return undefined;
  if (portText === undefined) return { host };
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  return port >= 1 && port <= 65535 ? { host, port } : undefined;
}

function bracketed(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function bad(message: string): ProxyRequest {
  return { kind: 'error', status: 400, message };
}
