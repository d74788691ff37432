/**
 * Signed checkpoints: every N records or T seconds the writer appends a
 * `mcpgate.audit.checkpoint` record holding a compact JWS (jose) over `{"seq":S,"hash":H}`, the
 * seq and line hash of the chain head when it was taken. Whoever holds the public key (or the
 * HS256 secret) can check that the chain up to S is the one the gateway signed.
 */
import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolveSecret, resolveValue, type ReferenceResolver } from '../secrets/resolve.js';
import type { Secret } from '../secrets/secretValue.js';
import type { GatewayConfig } from '../config/types.js';
import { ErrorCodes, GatewayError } from '../errors.js';

/** The JWS algorithms a checkpoint may use. */
export type CheckpointAlg = 'EdDSA' | 'ES256' | 'HS256';

/** Signs chain heads; built once at start-up. */
export interface CheckpointSigner {
  readonly alg: CheckpointAlg;
  readonly every: number;
  readonly intervalMs: number;
  /** A compact JWS over `{"seq":seq,"hash":hash}`. */
  sign(seq: number, hash: string): Promise<string>;
}

/** What a checkpoint's JWS payload says. */
export interface CheckpointClaim {
  readonly seq: number;
  readonly hash: string;
}

const FIELD = 'audit.checkpoint.key';

function keyError(message: string, cause?: unknown): GatewayError {
  return new GatewayError(ErrorCodes.AUDIT_KEY_INVALID, `${FIELD}: ${message}`, {
    remedy: 'give a PKCS#8 PEM private key (Ed25519 for EdDSA, P-256 for ES256) or, for HS256, a secret of at least 32 bytes',
    ...(cause === undefined ? {} : { cause }),
  });
}

function signingKey(secret: Secret, alg: CheckpointAlg): KeyObject {
  const text = secret.reveal();
  if (alg === 'HS256') {
    if (Buffer.byteLength(text) < 32) throw keyError('an HS256 secret must be at least 32 bytes');
    return createSecretKey(Buffer.from(text));
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch (error) {
    throw keyError('not a PEM private key', error);
  }
  const expected = alg === 'EdDSA' ? 'ed25519' : 'ec';
  if (key.asymmetricKeyType !== expected || (alg === 'ES256' && key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')) {
    throw keyError(`an ${alg} checkpoint needs ${alg === 'EdDSA' ? 'an Ed25519' : 'a P-256'} key, not ${key.asymmetricKeyType}`);
  }
  return key;
}

/** Resolves the configured key reference and builds the signer (undefined when not configured). */
export async function checkpointSigner(config: GatewayConfig, resolver: ReferenceResolver): Promise<CheckpointSigner | undefined> {
  const settings = config.audit.checkpoint;
  if (!settings) return undefined;
  if (!settings.key.includes('${')) throw keyError('must be a reference (${file:PATH}, ${env:NAME} or ${secret:NAME}), not the key itself');
  const key = signingKey(await resolveSecret(settings.key, { name: FIELD, file: 'gateway.yaml', label: FIELD }, resolver), settings.alg);
  // Loaded only when checkpoints are configured.
  const { CompactSign } = await import('jose');
  const encoder = new TextEncoder();
  return {
    alg: settings.alg,
    every: settings.every,
    intervalMs: settings.intervalMs,
    sign: (seq, hash) =>
      new CompactSign(encoder.encode(JSON.stringify({ seq, hash })))
        .setProtectedHeader({ alg: settings.alg, typ: 'mcpgate-audit-checkpoint' })
        .sign(key),
  };
}

/** A verification key from a PEM (public or private) or an HS256 secret, read from a file or a reference. */
export async function verificationKey(value: string, resolver: ReferenceResolver): Promise<KeyObject> {
  let text: string;
  if (value.includes('${')) {
    text = await resolveValue(value, { name: '--key', file: '--key', label: '--key' }, resolver);
  } else {
    text = await readFile(value, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new GatewayError(ErrorCodes.AUDIT_KEY_INVALID, `--key ${value} cannot be read (${error.code ?? 'error'})`, { remedy: 'give a readable key file or a reference such as ${env:NAME}' });
    });
  }
  if (!text.includes('-----BEGIN')) return createSecretKey(Buffer.from(text.replace(/\r?\n$/, '')));
  try {
    return createPublicKey(text);
  } catch (error) {
    throw new GatewayError(ErrorCodes.AUDIT_KEY_INVALID, '--key is not a usable PEM key', { remedy: 'give the public (SPKI) or private (PKCS#8) PEM of the checkpoint key', cause: error });
  }
}

/** The algorithm a verification key can check. */
function algorithmsFor(key: KeyObject): CheckpointAlg[] {
  if (key.type === 'secret') return ['HS256'];
  return key.asymmetricKeyType === 'ed25519' ? ['EdDSA'] : ['ES256'];
}

/** Verifies a checkpoint JWS; returns its claim, or an error message. */
export async function verifyCheckpoint(jws: string, key: KeyObject): Promise<CheckpointClaim | string> {
  const { compactVerify } = await import('jose');
  try {
    const { payload } = await compactVerify(jws, key, { algorithms: algorithmsFor(key) });
    const claim = JSON.parse(new TextDecoder().decode(payload)) as Partial<CheckpointClaim>;
    if (!Number.isSafeInteger(claim.seq) || typeof claim.hash !== 'string') return 'the signed payload is not {seq, hash}';
    return { seq: claim.seq as number, hash: claim.hash };
  } catch (error) {
    return `the signature does not verify with this key (${(error as Error).message})`;
  }
}
