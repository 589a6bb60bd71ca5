import { Keyring } from '../src/auth/encryption.js';
import { formatOpaqueToken, hashSecret, newOpaqueToken, parseOpaqueToken, secretMatches } from '../src/auth/opaque-token.js';

describe('encryption at rest (AES-256-GCM)', () => {
  const keyring = Keyring.parse(`${Keyring.generateSpec('k2')},${Keyring.generateSpec('k1')}`);

  test('round-trips, with a fresh IV each time and no plaintext in the stored form', () => {
    const a = keyring.encrypt('s3cr3t-value', 'secrets:row-1');
    const b = keyring.encrypt('s3cr3t-value', 'secrets:row-1');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1\.k2\./);
    expect(a).not.toContain('s3cr3t');
    expect(Buffer.from(a.split('.')[4], 'base64url').toString()).not.toContain('s3cr3t');
    expect(keyring.decrypt(a, 'secrets:row-1')).toBe('s3cr3t-value');
  });

  test('a value copied to another row, tampered with, or under an unknown key does not decrypt', () => {
    const sealed = keyring.encrypt('value', 'secrets:row-1');
    expect(() => keyring.decrypt(sealed, 'secrets:row-2')).toThrow();
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[4], 'base64url');
    flipped[0] ^= 1;
    expect(() => keyring.decrypt([...parts.slice(0, 4), flipped.toString('base64url')].join('.'), 'secrets:row-1')).toThrow();
    expect(() => Keyring.parse(Keyring.generateSpec('other')).decrypt(sealed, 'secrets:row-1')).toThrow();
  });

  test('older keys still decrypt after rotation; malformed key specs are refused', () => {
    const old = Keyring.parse(keyringSpecOf('k1'));
    const sealedWithOld = old.encrypt('v', 'row');
    expect(Keyring.parse(`${Keyring.generateSpec('k9')},${keyringSpecOf('k1')}`).decrypt(sealedWithOld, 'row')).toBe('v');
    expect(() => Keyring.parse('k1:short')).toThrow(/32 bytes/);
    expect(() => Keyring.parse('')).toThrow();
  });
});

const specs = new Map<string, string>();
function keyringSpecOf(id: string): string {
  if (!specs.has(id)) specs.set(id, Keyring.generateSpec(id));
  return specs.get(id)!;
}

describe('opaque tokens (API and refresh tokens)', () => {
  test("Platz's format: base64url(uuid).base64url(32 bytes); only the SHA-256 of the secret is kept", () => {
    const token = newOpaqueToken();
    expect(token.token).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(parseOpaqueToken(token.token)).toEqual({ id: token.id, secret: token.secret });
    expect(formatOpaqueToken(token.id, token.secret)).toBe(token.token);
    const stored = hashSecret(token.secret);
    expect(stored).not.toContain(token.secret);
    expect(secretMatches(token.secret, stored)).toBe(true);
    expect(secretMatches(`${token.secret}x`, stored)).toBe(false);
  });

  test('anything malformed parses to null', () => {
    for (const bad of ['', 'abc', 'a.b', `${'A'.repeat(22)}.${'B'.repeat(42)}`, `${'A'.repeat(22)}.${'B'.repeat(43)}.x`, `${'!'.repeat(22)}.${'B'.repeat(43)}`]) {
      expect(parseOpaqueToken(bad)).toBeNull();
    }
  });
});
