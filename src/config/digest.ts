/**
 * The configuration digest: one SHA-256 naming exactly the configuration files a gateway runs
 * with, recorded in every `mcpgate.session.start` (`config_digest`) and printed by `mcpgate
 * check`, so an auditor can tell which configuration was in force and match it to a copy of the
 * files (docs/audit.md). It covers gateway.yaml and every servers.d file, by path and content
 * (not state the gateway writes, such as the approved-rules file), and the managed requirements
 * file when one applies.
 */
import { createHash } from 'node:crypto';

/** A file that went into the configuration: its path (config-dir-relative) and its text. */
export interface ConfigSource {
  readonly path: string;
  readonly text: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** `sha256:<hex>` over the sources' paths and contents, in path order (pure). */
export function configDigest(sources: readonly ConfigSource[]): string {
  const listing = [...sources]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((source) => `${sha256(source.text)}  ${source.path}\n`)
    .join('');
  return `sha256:${sha256(listing)}`;
}

/** The digest of a configuration under managed requirements: both, in one. */
export function withRequirementsDigest(configDigestValue: string, requirementsText: string): string {
  return `sha256:${sha256(`${configDigestValue}\nrequirements ${sha256(requirementsText)}\n`)}`;
}
