/**
 * Calibration only: the floor of any JSON-RPC-aware middle process. It splits the byte stream
 * into lines and parses each one (as anything that must look at a message has to), then relays
 * the lines unchanged, the lines of one tick joined into one write: no ids rewritten, no policy,
 * no audit, one client. What it costs the client compared with a direct connection is the price
 * of the extra process and its two pipe hops on this machine, which no gateway can undercut.
 * Run: node --import tsx bench/lineRelay.ts CMD ARGS…
 * `RELAY_WORK_US=N` (sensitivity experiments only) adds N µs of busy work per relayed message,
 * to see how the throughput ratio falls as a middle process spends more CPU per call.
 */
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

const [command, ...args] = process.argv.slice(2);
if (!command) throw new Error('usage: lineRelay.ts CMD ARGS…');
const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
const workMs = Number(process.env.RELAY_WORK_US ?? 0) / 1000;

function work(): void {
  const until = performance.now() + workMs;
  while (performance.now() < until);
}

function relay(input: Readable, output: Writable): void {
  let buffer = '';
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const text = pending;
    pending = '';
    output.write(text);
  };
  input.setEncoding('utf8');
  input.on('data', (chunk: string) => {
    buffer += chunk;
    let start = 0;
    for (let end = buffer.indexOf('\n'); end !== -1; end = buffer.indexOf('\n', start)) {
      const line = buffer.slice(start, end);
      start = end + 1;
      JSON.parse(line);
      if (workMs > 0) work();
      pending += `${line}\n`;
    }
    buffer = buffer.slice(start);
    if (pending && !scheduled) {
      scheduled = true;
      process.nextTick(flush);
    }
  });
}

relay(process.stdin, child.stdin);
relay(child.stdout, process.stdout);
child.on('exit', (code) => process.exit(code ?? 0));
process.stdin.on('end', () => child.stdin.end());
