/**
 * Managed requirements as the rest of the gateway reads them: normalised from the requirements
 * file once, at start-up, and frozen with the configuration they constrain.
 */
import type { PolicySection, SourcedRule } from '../config/policyTypes.js';

/** One variable an allow-list entry lets a server file set. */
export interface EnvAllowance {
  /** Name glob (`LOG_*`), or the exact name of a loader variable (`HOME`). */
  readonly name: string;
  /** Glob on the value as written in servers.d (references unresolved); absent: any value. */
  readonly value?: string;
}

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
      /**
       * Variables the server file may set: a name glob and, optionally, a glob on the value as
       * written. Absent or empty: none. Loader variables (loaderEnv.ts) only by their exact name.
       */
      readonly env?: readonly EnvAllowance[];
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
  /** Server-name globs whose resources / prompts are denied (absent: the layer says nothing). */
  readonly content?: { readonly resources: readonly string[]; readonly prompts: readonly string[] };
  readonly approval: {
    /** Forced minimum of `approval.timeout`. */
    readonly minTimeoutMs?: number;
    /** `false` forbids persisting "always" approvals. */
    readonly allowAlways?: boolean;
    /** Forced `approval.channel`: only the queue (never elicitation to the caller, no sampling reviewer), or none. */
    readonly channel?: 'queue' | 'none';
  };
  /** Managed egress rules: denies above every user rule, and the cap on what may be allowed at all (absent: none). */
  readonly network?: {
    readonly deny: readonly SourcedRule[];
    /** Absent: no cap. */
    readonly allowOnly?: readonly SourcedRule[];
  };
  /** Floor of every stdio server's sandbox: a stricter mode, and paths added to every denyRead. */
  readonly sandbox?: {
    readonly mode?: 'auto' | 'required';
    readonly denyRead?: readonly string[];
  };
  /** Forced audit settings (file already absolute). */
  readonly audit: {
    readonly file?: string;
    readonly arguments?: 'full' | 'redacted' | 'hash' | 'none';
    readonly maxArgumentBytes?: number;
    readonly fsync?: 'always' | 'batch';
  };
}
