// Which HTTP clients honour the proxy variables mcpgate sets (docs/network.md has the table).
// Starts a real egress proxy (allowing everything) and an origin on 127.0.0.2, runs each client
// with proxyEnv(), and prints "proxy (how)" when the proxy was asked, "DIRECT" when only the
// origin saw the request. Other Node versions: NODES="22.21=/path/to/node,24.0=/path/to/node".
// Run after `npm run build`: node bench/proxyRuntimes.mjs
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { promisify } from 'node:util';
import { parseIP } from '../dist/network/address.js';
import { Egress } from '../dist/network/egress.js';
import { proxyEnv } from '../dist/network/proxyEnv.js';

const run = promisify(execFile);
const asked = [];
const egress = new Egress({
  decide: async (_server, d) => (asked.push(d.protocol), { decision: 'allow', addresses: [d.host.kind === 'ip' ? d.host.address : parseIP('127.0.0.2')], fields: { decided_by: 'rule', reason: 'probe' } }),
  record: () => undefined,
  maxConnections: 10,
  idleTimeoutMs: 5000,
  connectTimeoutMs: 5000,
  logger: { debug() {}, info() {}, warn() {}, error() {} },
});
let hits = 0;
const origin = createServer((_req, res) => (hits++, res.end('ok')));
await new Promise((resolve) => origin.listen(0, '127.0.0.2', resolve));
const url = `http://127.0.0.2:${origin.address().port}/`;
const route = await egress.route('probe');
const env = { ...process.env, ...proxyEnv(`http://127.0.0.1:${route.tcpPort}`) };

const nodes = { [`node ${process.versions.node}`]: process.execPath };
for (const pair of (process.env.NODES ?? '').split(',').filter(Boolean)) {
  const [label, path] = pair.split('=');
  nodes[`node ${label}`] = path;
}
const cases = [];
for (const [label, bin] of Object.entries(nodes)) {
  cases.push([`${label} fetch`, bin, ['-e', `fetch(${JSON.stringify(url)}).then(r=>r.text()).then(console.log,e=>console.log('ERR',e.cause?.code??e.message))`]]);
  cases.push([`${label} http.get`, bin, ['-e', `require('http').get(${JSON.stringify(url)},r=>{r.resume();r.on('end',()=>console.log('ok'))}).on('error',e=>console.log('ERR',e.code))`]]);
}
cases.push(['curl', 'curl', ['-s', url]]);
cases.push(['curl, uppercase HTTP_PROXY only', 'env', ['-u', 'http_proxy', '-u', 'ALL_PROXY', '-u', 'all_proxy', 'curl', '-s', url]]);
cases.push(['curl, ALL_PROXY only (socks5h)', 'env', ['-u', 'http_proxy', '-u', 'HTTP_PROXY', 'curl', '-s', url]]);
cases.push(['python urllib', 'python3', ['-c', `import urllib.request;print(urllib.request.urlopen(${JSON.stringify(url)}).read())`]]);
cases.push(['python requests', 'python3', ['-c', `import requests;print(requests.get(${JSON.stringify(url)}).text)`]]);
cases.push(['git ls-remote', 'git', ['ls-remote', url]]);
cases.push(['wget', 'wget', ['-q', '-O', '-', url]]);
for (const [label, bin, args] of cases) {
  const before = asked.length;
  const hitsBefore = hits;
  let out;
  try {
    out = (await run(bin, args, { env, timeout: 10_000 })).stdout.toString().trim().slice(0, 40);
  } catch (error) {
    out = `failed: ${error.code ?? error.message}`;
  }
  const how = asked.length > before ? `proxy (${asked.slice(before).join(',')})` : hits > hitsBefore ? 'DIRECT' : 'no request';
  console.log(`${label.padEnd(36)} ${how.padEnd(20)} ${out.replace(/\n/g, ' ')}`);
}
await egress.close();
origin.close();
