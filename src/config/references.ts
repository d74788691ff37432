/**
 * The syntax of `${kind:NAME}` references in config values (`env`, `headers`, `args`,
 * `url`/`sse`, some gateway.yaml keys): finding them and rejecting malformed ones, with no I/O.
 * Kinds: `env`, `file`, `secret`; `$${` is a literal `${`. Resolving them (reading the
 * environment, files, the keychain) is src/secrets/resolve.ts: config stays parse → normalise →
 * rules → frozen. Errors name the reference, never a value.
 */
import { ErrorCodes, GatewayError } from '../errors.js';
import { secretNameProblem } from '../secrets/secretStore.js';

/** The reference kinds. */
export type ReferenceKind = 'env' | 'file' | 'secret';

/** One reference found in a value. */
export interface Reference {
  readonly kind: ReferenceKind;
  readonly name: string;
}

const KINDS = new Set<ReferenceKind>(['env', 'file', 'secret']);
/** `$${` (escape) or `${…}` (match[1]: the body of a reference). */
export const REFERENCE_TOKEN = /\$\$\{|\$\{([^}]*)\}/g;

/** Lists the references in a value; throws a GatewayError naming a malformed one. */
export function findReferences(value: string): Reference[] {
  const found: Reference[] = [];
  for (const match of value.matchAll(REFERENCE_TOKEN)) {
    if (match[0] === '$${') continue;
    found.push(parseReference(match[1] ?? ''));
  }
  const unterminated = value.replace(REFERENCE_TOKEN, '').indexOf('${');
  if (unterminated !== -1) {
    throw new GatewayError(ErrorCodes.CONFIG_INVALID, 'unterminated reference: "${" without a closing "}" (write $${ for a literal ${)');
  }
  return found;
}

/** The reference `${body}` stands for; throws a GatewayError naming a malformed one. */
export function parseReference(body: string): Reference {
  const colon = body.indexOf(':');
  const kind = body.slice(0, colon) as ReferenceKind;
  const name = body.slice(colon + 1);
  if (colon === -1 || !KINDS.has(kind)) {
    throw new GatewayError(ErrorCodes.CONFIG_INVALID, `unknown reference \${${body}}: use \${env:NAME}, \${file:PATH} or \${secret:NAME}`);
  }
  if (name.trim() === '') throw new GatewayError(ErrorCodes.CONFIG_INVALID, `empty reference \${${kind}:}: name what it refers to`);
  const problem = kind === 'secret' ? secretNameProblem(name) : undefined;
  if (problem) throw new GatewayError(ErrorCodes.CONFIG_INVALID, `\${secret:${name}}: ${problem}`);
  return { kind, name };
}
