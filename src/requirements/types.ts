/**
 * Managed requirements as the rest of the gateway reads them: normalised from the requirements
 * file once, at start-up, and frozen with the configuration they constrain.
 */
import type { PolicySection } from '../config/types.js';

/** One entry of the managed server allow-list: what a server must be, not what it is called. */
export type ServerIdentityPattern =
  | {
      readonly kind: 'stdio';
      /** Glob on the command (as normalised: relative paths with a `/` made absolute). */
      readonly command: string;
      /** Globs on the arguments, one per argument; a final `**` accepts any further ones; absent: any. */
      readonly args?: readonly string[];
      /**
       * Glob on the server's absolute working directory (a server without `cwd` runs in the config
       * dir). Required for a server whose command line holds a relative path; checked whenever given.
       */
      readonly cwd?: string;
      /** Field path in the requirements file, e.g. `servers.allow[2]`. */
      readonly where: string;
    }
  | {
      readonly kind: 'remote';
      /** Glob on the `url` / `sse` endpoint as written. */
      readonly url: string;
      readonly where: string;
    };

/** The managed layer: admins' floor, merged above user configuration. */
export interface ManagedRequirements {
  /** Absolute path of the requirements file (shown in every explanation). */
  readonly file: string;
  /** The file's text, for the configuration digest (config/digest.ts). */
  readonly text: string;
  /** Managed rules (`server/tool` globs); only ask and deny: the layer can only tighten. */
  readonly rules: PolicySection;
  /** Servers that may be registered, matched on identity; undefined: no allow-list. */
  readonly servers?: readonly ServerIdentityPattern[];
  readonly approval: {
    /** Forced minimum of `approval.timeout`. */
    readonly minTimeoutMs?: number;
    /** `false` forbids persisting "always" approvals. */
    readonly allowAlways?: boolean;
  };
  /** Forced audit settings (file already absolute). */
  readonly audit: {
    readonly file?: string;
    readonly arguments?: 'full' | 'redacted' | 'hash' | 'none';
    readonly maxArgumentBytes?: number;
    readonly fsync?: 'always' | 'batch';
  };
}
