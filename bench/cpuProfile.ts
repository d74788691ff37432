/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`, e.g. `npm run bench -- --http --profile
 * DIR`): self time by area (mcpgate's own folders, the SDK, zod, pino, Node's http/net/streams,
 * garbage collection, idle) and the top functions. Run:
 * `node --import tsx bench/cpuProfile.ts FILE.cpuprofile [--top N] [--calls N]` (`--calls`
 * prints µs per call as well).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

/** The area a frame belongs to, from its script URL. */
function area(url: string, name: string): string {
  if (name === '(garbage collector)') return 'gc';
  if (name === '(idle)') return 'idle';
  if (name === '(program)') return 'program (V8/native, unattributed)';
  const src = /\/(?:dist|src)\/([a-zA-Z]+)\//.exec(url);
  if (url.includes('/node_modules/')) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? 'node_modules';
    if (pkg === '@modelcontextprotocol/sdk') {
      const file = /\/(server|client|shared)\/([a-zA-Z]+)\.js/.exec(url);
      return file ? `sdk ${file[1]}/${file[2]}` : /types\.js$/.test(url) ? 'sdk types (zod schemas)' : 'sdk other';
    }
    return pkg;
  }
  if (url.startsWith('node:')) {
    const mod = url.slice(5).split('/');
    return `node:${mod[1] ?? mod[0]}`;
  }
  if (src && !url.includes('node_modules')) return `mcpgate ${src[1]}`;
  if (/\/(dist|src)\/[a-zA-Z]+\.js$/.test(url)) return `mcpgate ${/\/([a-zA-Z]+)\.js$/.exec(url)?.[1]}`;
  return url ? 'other' : 'native';
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, calls: { type: 'string' } } });
  const file = positionals[0];
  if (!file) throw new Error('usage: cpuProfile.ts FILE.cpuprofile [--top N] [--calls N]');
  const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);
  const busy = total - idle;
  const calls = values.calls ? Number(values.calls) : undefined;
  const show = (us: number) => `${((us / busy) * 100).toFixed(1).padStart(5)}%${calls ? `  ${(us / calls).toFixed(2).padStart(7)} µs/call` : ''}`;
  console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled, ${(busy / 1000).toFixed(0)} ms busy (${((busy / total) * 100).toFixed(0)}%)${calls ? `, ${(busy / calls).toFixed(1)} µs busy per call` : ''}`);
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)') continue;
    const a = area(frame.url, frame.functionName);
    areas.set(a, (areas.get(a) ?? 0) + us);
    const where = frame.url ? `${frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(dist|src)\//, '$1/')}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName || '(anonymous)'} ${where}`;
    functions.set(key, (functions.get(key) ?? 0) + us);
  }
  console.log('\nself time by area (share of busy time):');
  for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1])) console.log(`  ${show(us)}  ${a}`);
  console.log(`\ntop ${values.top} functions by self time:`);
  for (const [f, us] of [...functions].sort((x, y) => y[1] - x[1]).slice(0, Number(values.top))) console.log(`  ${show(us)}  ${f}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
