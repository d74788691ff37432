/**
 * zod schemas of gateway.yaml's `auth` (bearer-JWT authentication of HTTP clients) and `clients`
 * (per-subject / per-group policy rules) sections. Kept apart from schema.ts so the identity
 * feature stays in its own modules; schema.ts includes them in GatewayFileSchema.
 */
import { z } from 'zod';
import type { DurationSchema as Duration, RuleSchema as Rule } from './ruleSchema.js';

/** Asymmetric JWS algorithms accepted with `jwksUrl` / `publicKey` unless `algorithms` says otherwise. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
/** HMAC algorithms accepted with `secret`. */
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;

/** `auth:` — how HTTP clients authenticate (bearer JWTs verified with jose). */
export const authSchema = (DurationSchema: typeof Duration) =>
  z
  .strictObject({
    issuer: z.string().min(1).describe('Required `iss` claim; also the default authorization server in the protected-resource metadata'),
    audience: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .describe('Accepted `aud` value(s): the token must be issued for this gateway'),
    jwksUrl: z.string().url().optional().describe('JWKS endpoint of the issuer (keys fetched and cached; rotated keys picked up)'),
    publicKey: z.string().min(1).optional().describe('PEM public key (SPKI or certificate), usually a reference: ${file:…} or ${secret:…}'),
    secret: z.string().min(1).optional().describe('HMAC key; must be a reference (${secret:…}, ${file:…} or ${env:…}), never written in the file'),
    algorithms: z.array(z.string().min(1)).min(1).optional().describe('Accepted JWS algorithms (default: HS256/384/512 with secret, asymmetric ones otherwise)'),
    clockTolerance: DurationSchema.default('30s').describe('Clock skew allowed on exp/nbf/iat'),
    maxTokenAge: DurationSchema.optional().describe('Reject tokens whose iat is older than this'),
    subjectClaim: z.string().min(1).default('sub').describe('Claim that becomes the session subject'),
    groupsClaim: z.string().min(1).default('groups').describe('Claim (string or string array) that becomes the session groups'),
    resource: z.string().url().optional().describe('This gateway\'s resource identifier (default: http://HOST/mcp from the request)'),
    authorizationServers: z.array(z.string().url()).optional().describe('Advertised in /.well-known/oauth-protected-resource (default: [issuer])'),
    scopes: z.array(z.string().min(1)).optional().describe('scopes_supported in the protected-resource metadata'),
  })
  .superRefine((value, ctx) => {
    const keys = [value.jwksUrl, value.publicKey, value.secret].filter((v) => v !== undefined).length;
    if (keys !== 1) {
      ctx.addIssue({ code: 'custom', path: keys === 0 ? [] : ['secret'], message: 'set exactly one of jwksUrl, publicKey or secret' });
    }
    if (value.secret !== undefined && !value.secret.includes('${')) {
      ctx.addIssue({ code: 'custom', path: ['secret'], message: 'write the HMAC key as a reference (${secret:NAME}, ${file:PATH} or ${env:NAME}), not in the file' });
    }
  });
export type AuthInput = z.infer<ReturnType<typeof authSchema>>;

/** One `clients:` entry: rules that apply to sessions whose subject or group matches. */
const clientRuleSetSchema = (RuleSchema: typeof Rule) =>
  z
  .strictObject({
    subject: z.string().min(1).optional().describe('Glob over the session subject (token `sub`)'),
    group: z.string().min(1).optional().describe('Glob over the session groups (any one matching)'),
    allow: z.array(RuleSchema).default([]).describe('server/tool rules, as in policy'),
    ask: z.array(RuleSchema).default([]),
    deny: z.array(RuleSchema).default([]),
  })
  .superRefine((value, ctx) => {
    if ((value.subject === undefined) === (value.group === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'set exactly one of subject or group' });
    }
  });
export type ClientRuleSetInput = z.infer<ReturnType<typeof clientRuleSetSchema>>;

/** `clients:` — per-identity rules, combined with the policy (deny > ask > allow > default). */
export const clientsSchema = (RuleSchema: typeof Rule) => z.array(clientRuleSetSchema(RuleSchema)).default([]);
