/**
 * The audit chains of one configured `audit.file`. Each gateway process writes a chain of its own
 * (chainLock.ts decides which): chain 1 is `audit.file` itself (`mcpgate-audit.log`), chain K ≥ 2
 * is `STEM.chain-K.EXT` beside it (`mcpgate-audit.chain-2.log`). Each chain has its own seq, its
 * own genesis and its own rotated files (`mcpgate-audit.chain-2.log.SEQ`, files.ts). Records of
 * chain K ≥ 2 carry `"chain":K`; a record without it belongs to chain 1. The auditor commands read
 * every chain of a configuration together.
 */
import { readdir } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { chainFiles } from './files.js';

/** One chain of a configuration's audit log. */
export interface AuditChain {
  readonly chain: number;
  /** Its active file. */
  readonly active: string;
  /** Its files in reading order (rotated files first). */
  readonly files: readonly string[];
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function split(base: string): { stem: string; ext: string } {
  const ext = extname(base);
  return { stem: base.slice(0, base.length - ext.length), ext };
}

/** The active file of chain `chain` of `base` (`audit.file`). */
export function chainFileName(base: string, chain: number): string {
  if (chain === 1) return base;
  const { stem, ext } = split(base);
  return `${stem}.chain-${chain}${ext}`;
}

/** The chain a file given by name belongs to, when it is named `STEM.chain-K.EXT`; 1 otherwise. */
export function chainOfName(file: string): { chain: number; base: string } {
  const match = /^(.*)\.chain-(\d+)((?:\.[^.]*)?)$/.exec(basename(file));
  if (!match || Number(match[2]) < 2) return { chain: 1, base: file };
  return { chain: Number(match[2]), base: join(dirname(file), `${match[1]}${match[3]}`) };
}

/**
 * Every chain of `file` that has files, by chain number. `file` is `audit.file`, or (from
 * `--file`) one chain's own active file `STEM.chain-K.EXT`: then only that chain.
 */
export async function auditChains(file: string): Promise<AuditChain[]> {
  const named = chainOfName(file);
  if (named.chain > 1) {
    const files = await chainFiles(file);
    return files.length === 0 ? [] : [{ chain: named.chain, active: file, files }];
  }
  const { stem, ext } = split(basename(file));
  const pattern = new RegExp(`^${escape(stem)}\\.chain-(\\d+)${escape(ext)}(?:\\.\\d+)?$`);
  const names = await readdir(dirname(file)).catch(() => [] as string[]);
  const numbers = new Set<number>([1]);
  for (const name of names) {
    const match = pattern.exec(name);
    if (match && Number(match[1]) >= 2) numbers.add(Number(match[1]));
  }
  const chains: AuditChain[] = [];
  for (const chain of [...numbers].sort((a, b) => a - b)) {
    const active = chainFileName(file, chain);
    const files = await chainFiles(active);
    if (files.length > 0) chains.push({ chain, active, files });
  }
  return chains;
}

/** `chain 2 (mcpgate-audit.chain-2.log)`. */
export function chainLabel(chain: AuditChain): string {
  return `chain ${chain.chain} (${basename(chain.active)})`;
}
