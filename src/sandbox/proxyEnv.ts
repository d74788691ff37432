/**
 * The environment that points a server at the gateway's egress proxy: HTTP(S) clients at its
 * HTTP face (CONNECT and absolute-form requests), everything else at its SOCKS5 face (same port:
 * the proxy sniffs the first byte). `socks5h` makes clients send host names, not addresses, so
 * the proxy judges (and resolves) the name itself. NO_PROXY is emptied: nothing bypasses it.
 */

/**
 * Proxy variables for a proxy listening at `url` (`http://HOST:PORT`).
 * @example proxyEnv('http://127.0.0.1:3128').ALL_PROXY // 'socks5h://127.0.0.1:3128'
 */
export function proxyEnv(url: string): Record<string, string> {
  const { host } = new URL(url);
  const http = `http://${host}`;
  const socks = `socks5h://${host}`;
  return {
    HTTP_PROXY: http,
    HTTPS_PROXY: http,
    http_proxy: http,
    https_proxy: http,
    ALL_PROXY: socks,
    all_proxy: socks,
    NO_PROXY: '',
    no_proxy: '',
    // Recent Node releases (24, and late 22.x) make fetch (and later http/https) honour the variables above only when this is set.
    NODE_USE_ENV_PROXY: '1',
  };
}
