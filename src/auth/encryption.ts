import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { parseEncryptionKeys } from '../config/encryption-keys.js';

/**
 * AES-256-GCM for data at rest (secret contents, kubeconfig credentials). Each value is bound to
 * its row and column through the additional authenticated data, so a ciphertext copied to another
 * row does not decrypt. Format: "v1.<keyId>.<iv>.<tag>.<ciphertext>", parts base64url.
 */
export class Keyring {
  private constructor(
    private readonly keys: Map<string, Buffer>,
    private readonly currentKeyId: string,
  ) {}

  /** "keyId:base64key[,keyId:base64key…]"; the first key encrypts, all of them decrypt. */
  static parse(spec: string): Keyring {
    const keys = parseEncryptionKeys(spec);
    return new Keyring(keys, [...keys.keys()][0]);
  }

  static generateSpec(keyId = 'k1'): string {
    return `${keyId}:${randomBytes(32).toString('base64')}`;
  }

  encrypt(plaintext: string, boundTo: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv);
    cipher.setAAD(Buffer.from(boundTo));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const parts = [iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString('base64url'));
    return ['v1', this.currentKeyId, ...parts].join('.');
  }

  decrypt(stored: string, boundTo: string): string {
    const [version, keyId, iv, tag, ciphertext] = stored.split('.');
    const key = this.keys.get(keyId ?? '');
    if (version !== 'v1' || !key || !iv || !tag || ciphertext === undefined) throw new Error('undecryptable value');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(boundTo));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }
}
