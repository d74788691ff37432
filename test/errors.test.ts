/**
 * The error catalogue: every stable code in src/errors.ts is raised somewhere in src/ and listed
 * with a remedy in docs/errors.md, every code docs/errors.md lists exists, and gateway-originated
 * wire errors are built from a code (no ad-hoc `new WireError(ErrorCode.…)` with free text).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, toWireError, GatewayError, wireError } from '../src/errors.js';

const ROOT = resolve(import.meta.dirname, '..');

async function sources(dir: string): Promise<Array<{ file: string; text: string }>> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map(async (entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return sources(path);
      return entry.name.endsWith('.ts') ? [{ file: relative(ROOT, path), text: await readFile(path, 'utf8') }] : [];
    }),
  );
  return nested.flat();
}

/** The codes of the first column of docs/errors.md's tables (`MCPGATE_UNKNOWN_TOOL` / `_PROMPT` expands). */
function documentedCodes(markdown: string): Set<string> {
  const codes = new Set<string>();
  for (const line of markdown.split('\n')) {
    const first = /^\| ([^|]+) \|/.exec(line)?.[1];
    if (!first) continue;
    const full = [...first.matchAll(/`(MCPGATE_[A-Z_]+)`/g)].map((m) => m[1] as string);
    if (full.length === 0) continue;
    for (const code of full) codes.add(code);
    const stem = (full[0] as string).slice(0, (full[0] as string).lastIndexOf('_'));
    for (const suffix of first.matchAll(/`(_[A-Z_]+)`/g)) codes.add(`${stem}${suffix[1]}`);
  }
  return codes;
}

describe('error codes', () => {
  it('each code is raised in src/ and documented, and each documented code exists', async () => {
    const files = (await sources(join(ROOT, 'src'))).filter((f) => f.file !== join('src', 'errors.ts'));
    const documented = documentedCodes(await readFile(join(ROOT, 'docs/errors.md'), 'utf8'));
    const raised = (key: string) => files.some((f) => f.text.includes(`ErrorCodes.${key}`) || (key === 'USAGE' && f.text.includes('new UsageError(')));
    const entries = Object.entries(ErrorCodes);
    expect(entries.filter(([key]) => !raised(key)).map(([, code]) => code)).toEqual([]);
    expect(entries.filter(([, code]) => !documented.has(code)).map(([, code]) => code)).toEqual([]);
    expect([...documented].filter((code) => !entries.some(([, value]) => value === code))).toEqual([]);
  });

  it('gateway-originated wire errors are built from a code (no ad-hoc WireError with a bare JSON-RPC code)', async () => {
    const files = (await sources(join(ROOT, 'src'))).filter((f) => f.file !== join('src', 'errors.ts'));
    const adHoc = files.flatMap((f) => f.text.split('\n').map((line, i) => [f.file, i + 1, line] as const)).filter(([, , line]) => /new WireError\(\s*ErrorCode\./.test(line));
    expect(adHoc.map(([file, line]) => `${file}:${line}`)).toEqual([]);
  });

  it('a code goes out with its JSON-RPC code and the stable code in data', () => {
    expect(wireError(ErrorCodes.UNKNOWN_TOOL, 'Unknown tool: x')).toMatchObject({ code: -32602, message: 'Unknown tool: x', data: { code: 'MCPGATE_UNKNOWN_TOOL' } });
    expect(wireError(ErrorCodes.METHOD_NOT_FOUND, 'Method not found: x').code).toBe(-32601);
    expect(wireError(ErrorCodes.CALL_CANCELLED, 'cancelled').code).toBe(-32001);
    expect(toWireError(new GatewayError(ErrorCodes.UPSTREAM_CRASHED, 'gone'))).toMatchObject({ code: -32011, data: { code: 'MCPGATE_UPSTREAM_CRASHED' } });
    expect(toWireError(new GatewayError(ErrorCodes.CONFIG_INVALID, 'broken')).code).toBe(-32603);
  });
});
