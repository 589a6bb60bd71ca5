/**
 * BERTH_ENCRYPTION_KEYS, "keyId:<base64 of 32 bytes>[,…]", as key id → key, in the order given (the first
 * encrypts). Read here, with the rest of the configuration, so a bad value fails before anything opens.
 */
export function parseEncryptionKeys(spec: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [id, b64] = part.split(':');
    const key = Buffer.from(b64 ?? '', 'base64');
    if (!id || !/^[A-Za-z0-9_-]+$/.test(id) || key.length !== 32) throw new Error('each entry must be "keyId:<base64 of 32 bytes>"');
    keys.set(id, key);
  }
  if (!keys.size) throw new Error('no key given');
  return keys;
}
