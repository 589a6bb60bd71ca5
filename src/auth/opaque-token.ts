import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/**
 * Platz's token format: base64url(uuid bytes) + "." + base64url(32 random bytes).
 * The uuid is the row id; only SHA-256(secret) is stored. Used for API tokens and refresh tokens.
 */
export interface OpaqueToken {
  id: string;
  secret: string;
}

const uuidToBytes = (uuid: string) => Buffer.from(uuid.replace(/-/g, ''), 'hex');
const bytesToUuid = (b: Buffer) => {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

export const formatOpaqueToken = (id: string, secret: string) => `${uuidToBytes(id).toString('base64url')}.${secret}`;

/** A token for a new row (id) or, with an existing id, a rotated secret for that row. */
export function newOpaqueToken(id: string = randomUUID()): OpaqueToken & { token: string } {
  const secret = randomBytes(32).toString('base64url');
  return { id, secret, token: formatOpaqueToken(id, secret) };
}

/** Returns null for anything that is not a well-formed token. */
export function parseOpaqueToken(token: string): OpaqueToken | null {
  const match = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(token.trim());
  if (!match) return null;
  const idBytes = Buffer.from(match[1], 'base64url');
  if (idBytes.length !== 16) return null;
  return { id: bytesToUuid(idBytes), secret: match[2] };
}

export const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('base64url');

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret));
  const b = Buffer.from(storedHash);
  return a.length === b.length && timingSafeEqual(a, b);
}
