/**
 * Load-time handling of gateway.yaml's identity sections: reference syntax in `auth` is checked
 * like servers.d references, and `auth` / `clients` are normalised into the frozen config.
 */
import { ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS } from './authSchema.js';
import { findReferences } from './references.js';
import { durationToMs, type GatewayFile, type ToolPolicyInput } from './schema.js';
import type { AuthConfig, ClientRuleSet, ConfigProblem, PolicySection } from './types.js';

type Path = readonly (string | number)[];

/** Reference syntax in `auth.publicKey`, `auth.secret` and `auth.jwksUrl`. */
export function checkAuthReferences(
  parsed: { readonly file: string; lineOf(path: Path): number | undefined },
  value: GatewayFile,
  problems: ConfigProblem[],
): void {
  const auth = value.auth;
  if (!auth) return;
  for (const key of ['publicKey', 'secret', 'jwksUrl'] as const) {
    const text = auth[key];
    if (text === undefined) continue;
    try {
      findReferences(text);
    } catch (error) {
      problems.push({ file: parsed.file, line: parsed.lineOf(['auth', key]), field: `auth.${key}`, message: (error as Error).message, severity: 'error' });
    }
  }
}

/** The normalised `auth` and `clients` of a validated gateway.yaml. */
export function normaliseIdentity(
  value: GatewayFile,
  source: string,
  section: (source: string, base: Path, rules: ToolPolicyInput) => PolicySection,
): { auth?: AuthConfig; clients: ClientRuleSet[] } {
  const clients = value.clients.map((entry, index): ClientRuleSet => ({
    ...(entry.subject === undefined ? {} : { subject: entry.subject }),
    ...(entry.group === undefined ? {} : { group: entry.group }),
    where: `clients[${index}]`,
    policy: section(source, ['clients', index], { allow: entry.allow, ask: entry.ask, deny: entry.deny }),
  }));
  const auth = value.auth;
  if (!auth) return { clients };
  const key: AuthConfig['key'] = auth.jwksUrl
    ? { kind: 'jwks', url: auth.jwksUrl }
    : auth.publicKey
      ? { kind: 'publicKey', value: auth.publicKey }
      : { kind: 'secret', value: auth.secret as string };
  return {
    clients,
    auth: {
      issuer: auth.issuer,
      audience: typeof auth.audience === 'string' ? [auth.audience] : auth.audience,
      key,
      algorithms: auth.algorithms ?? (key.kind === 'secret' ? [...HMAC_ALGORITHMS] : [...ASYMMETRIC_ALGORITHMS]),
      clockToleranceSec: Math.round(durationToMs(auth.clockTolerance) / 1000),
      ...(auth.maxTokenAge === undefined ? {} : { maxTokenAgeSec: Math.round(durationToMs(auth.maxTokenAge) / 1000) }),
      subjectClaim: auth.subjectClaim,
      groupsClaim: auth.groupsClaim,
      ...(auth.resource === undefined ? {} : { resource: auth.resource }),
      authorizationServers: auth.authorizationServers ?? [auth.issuer],
      ...(auth.scopes === undefined ? {} : { scopes: auth.scopes }),
    },
  };
}
