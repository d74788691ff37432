/**
 * The environment that points a process's HTTP clients at the egress proxy: the conventional
 * proxy variables in both cases (curl reads only lowercase `http_proxy`; Go and Python read
 * both), SOCKS5 with remote name resolution for `ALL_PROXY` (the proxy resolves, so it judges
 * the address it connects to), an empty `NO_PROXY` (nothing bypasses it), and
 * `NODE_USE_ENV_PROXY=1` for Node's own `fetch`/`http` (honoured from Node 24 / 22.21: see
 * docs/network.md). A process may ignore all of this; inside a sandbox that only means it has
 * no network at all.
 */

/**
 * The proxy variables for a proxy at `url` (`http://127.0.0.1:PORT`).
 * @example proxyEnv('http://127.0.0.1:4100').ALL_PROXY // 'socks5h://127.0.0.1:4100'
 */
export function proxyEnv(url: string): Record<string, string> {
  const socks = url.replace(/^http:/, 'socks5h:');
  return {
    HTTP_PROXY: url,
    HTTPS_PROXY: url,
    http_proxy: url,
    https_proxy: url,
    ALL_PROXY: socks,
    all_proxy: socks,
    NO_PROXY: '',
    no_proxy: '',
    NODE_USE_ENV_PROXY: '1',
  };
}
