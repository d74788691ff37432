/**
 * Bearer-JWT authentication of HTTP clients (gateway.yaml `auth`), verified with jose: signature
 * (JWKS URL, PEM public key or HMAC key — the latter two usually from the keychain or a file),
 * issuer, audience, expiry with clock tolerance. Also the OAuth 2.0 protected-resource metadata
 * (RFC 9728) and the `WWW-Authenticate` challenge that points clients at it.
 *
 * Cost: the JWKS is fetched once and cached by jose (refetched only for an unknown `kid`), and a
 * token verified once is remembered until it expires, so the many requests of one session (POSTs,
 * the SSE GET and its reconnections) each cost a Map lookup. Every request must still carry a
 * valid token. The client's token is never forwarded to upstreams: they have their own
 * connections and credentials.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { resolveSecret, resolveValue, type ReferenceResolver } from '../secrets/resolve.js';
import type { AuthConfig } from '../config/types.js';
import { ErrorCodes, GatewayError } from '../errors.js';
import type { Identity } from '../caller/caller.js';

/** The outcome of authenticating one request. */
export type AuthResult =
  | { readonly ok: true; readonly identity: Identity }
  | { readonly ok: false; readonly status: 401; readonly error?: 'invalid_request' | 'invalid_token'; readonly description: string };

/** Path prefix of the protected-resource metadata (RFC 9728 §3). */
export const METADATA_PATH = '/.well-known/oauth-protected-resource';

/** Verified tokens remembered at most this long (and never past their expiry). */
const CACHE_MS = 5 * 60_000;
const CACHE_MAX = 10_000;

/** Verifies bearer tokens against the configured issuer, audience and keys. */
export class BearerAuth {
  private readonly cache = new Map<string, { identity: Identity; until: number }>();

  private constructor(
    private readonly config: AuthConfig,
    private readonly key: Uint8Array | KeyObject | JWTVerifyGetKey,
  ) {}

  /**
   * Resolves the key material (references: `${secret:}`, `${file:}`, `${env:}`) and builds the
   * verifier; throws AUTH_CONFIG_INVALID (naming the field, never a value) when it cannot.
   */
  static async create(config: AuthConfig, resolver: ReferenceResolver, onValues: (values: string[]) => void = () => undefined): Promise<BearerAuth> {
    const owner = { name: 'auth', file: 'gateway.yaml', label: 'gateway.yaml auth' };
    const values: string[] = [];
    // a field that cannot be resolved stops client authentication, and says so
    const resolved = async <T>(resolving: Promise<T>): Promise<T> => {
      try {
        return await resolving;
      } catch (error) {
        if (error instanceof GatewayError) throw new GatewayError(error.code, `${error.message} (client authentication cannot start)`, { remedy: error.remedy, cause: error });
        throw error;
      }
    };
    const spec = config.key;
    let key: Uint8Array | KeyObject | JWTVerifyGetKey;
    if (spec.kind === 'jwks') {
      key = createRemoteJWKSet(new URL(await resolved(resolveValue(spec.url, owner, resolver, values))), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
    } else if (spec.kind === 'secret') {
      const secret = await resolved(resolveSecret(spec.value, owner, resolver, values));
      if (Buffer.byteLength(secret.reveal()) < 32) {
        throw new GatewayError(ErrorCodes.AUTH_CONFIG_INVALID, 'gateway.yaml auth.secret: the HMAC key is shorter than 32 bytes', {
          remedy: 'use a random key of at least 32 bytes (e.g. `openssl rand -base64 48 | mcpgate secrets set jwt-hmac`)',
        });
      }
      key = new TextEncoder().encode(secret.reveal());
    } else {
      const pem = await resolved(resolveValue(spec.value, owner, resolver, values));
      try {
        key = createPublicKey(pem);
      } catch (error) {
        throw new GatewayError(ErrorCodes.AUTH_CONFIG_INVALID, `gateway.yaml auth.publicKey: not a PEM public key or certificate (${(error as Error).message})`, {
          remedy: 'give a PEM "-----BEGIN PUBLIC KEY-----" (SPKI) or certificate, e.g. ${file:/etc/mcpgate/issuer.pem}',
          cause: error,
        });
      }
    }
    onValues(values);
    return new BearerAuth(config, key);
  }

  /** Authenticates one HTTP request from its `Authorization` header. */
  async authenticate(req: IncomingMessage): Promise<AuthResult> {
    const header = req.headers.authorization;
    if (!header) return { ok: false, status: 401, description: 'a bearer token is required' };
    const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim());
    if (!match) return { ok: false, status: 401, error: 'invalid_request', description: 'the Authorization header must be "Bearer <token>"' };
    const token = match[1] as string;
    const now = Date.now();
    const cached = this.cache.get(token);
    if (cached && cached.until > now) return { ok: true, identity: cached.identity };
    if (cached) this.cache.delete(token);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key as Parameters<typeof jwtVerify>[1], {
        issuer: this.config.issuer,
        audience: [...this.config.audience],
        algorithms: [...this.config.algorithms],
        clockTolerance: this.config.clockToleranceSec,
        requiredClaims: ['exp'],
        ...(this.config.maxTokenAgeSec === undefined ? {} : { maxTokenAge: this.config.maxTokenAgeSec }),
      }));
    } catch (error) {
      return { ok: false, status: 401, error: 'invalid_token', description: describeJoseError(error) };
    }
    const subject = payload[this.config.subjectClaim];
    if (typeof subject !== 'string' || subject === '') {
      return { ok: false, status: 401, error: 'invalid_token', description: `the token has no "${this.config.subjectClaim}" claim` };
    }
    const rawGroups = payload[this.config.groupsClaim];
    const groups = typeof rawGroups === 'string' ? [rawGroups] : Array.isArray(rawGroups) ? rawGroups.filter((g): g is string => typeof g === 'string') : [];
    const identity: Identity = Object.freeze({ subject, groups: Object.freeze(groups) });
    const tolerance = this.config.clockToleranceSec * 1000;
    let expires = typeof payload.exp === 'number' ? payload.exp * 1000 + tolerance : now;
    // maxTokenAge is checked at verification only: the cache must not outlive it either
    if (this.config.maxTokenAgeSec !== undefined) expires = Math.min(expires, typeof payload.iat === 'number' ? (payload.iat + this.config.maxTokenAgeSec) * 1000 + tolerance : now);
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(token, { identity, until: Math.min(expires, now + CACHE_MS) });
    return { ok: true, identity };
  }

  /** The resource identifier of this gateway: configured, or `http://HOST/mcp` from the request. */
  resource(req: IncomingMessage): string {
    return this.config.resource ?? `http://${req.headers.host ?? 'localhost'}/mcp`;
  }

  /** The RFC 9728 metadata URL for the resource (`…/.well-known/oauth-protected-resource/mcp`). */
  metadataUrl(req: IncomingMessage): string {
    const resource = new URL(this.resource(req));
    const path = resource.pathname === '/' ? '' : resource.pathname;
    return `${resource.origin}${METADATA_PATH}${path}`;
  }

  /** The protected-resource metadata document (RFC 9728 §2). */
  metadata(req: IncomingMessage): Record<string, unknown> {
    return {
      resource: this.resource(req),
      authorization_servers: [...this.config.authorizationServers],
      bearer_methods_supported: ['header'],
      resource_name: 'mcpgate',
      ...(this.config.scopes ? { scopes_supported: [...this.config.scopes] } : {}),
    };
  }

  /** The `WWW-Authenticate` value for a failed request (RFC 6750 §3, RFC 9728 §5.1). */
  challenge(req: IncomingMessage, result: Extract<AuthResult, { ok: false }>): string {
    const parts = [`resource_metadata="${this.metadataUrl(req)}"`];
    if (result.error) parts.unshift(`error="${result.error}"`, `error_description="${result.description.replace(/["\\]/g, "'")}"`);
    return `Bearer ${parts.join(', ')}`;
  }
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return 'the token is not issued for this gateway (audience)';
    if (error.claim === 'iss') return 'the token is not from the configured issuer';
    return `the token's "${error.claim}" claim is not acceptable (${error.reason})`;
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'the token signature is invalid';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm that is not accepted';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the issuer matches the token';
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid) return 'the issuer keys (JWKS) could not be fetched';
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) return 'the token is malformed';
  return 'the token could not be verified';
}

/** True for an address that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare);
}
