// Passwords travel from the editor's secret storage to the server over the LSP connection, which an editor
// can trace in full to its output channel (`sqlInsight.trace.server: verbose`). So they travel sealed, with
// a key the client makes at start-up and hands to the server process in its environment, which no trace
// shows. Shared by client and server; only node:crypto, no I/O.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** The environment variable that carries the hex key to the server process. */
export const SEAL_KEY_ENV = 'SQL_INSIGHT_SEAL_KEY';

export function newSealKey(): string {
  return randomBytes(32).toString('hex');
}

/** AES-256-GCM: base64 of iv ‖ tag ‖ ciphertext. */
export function seal(plain: string, keyHex: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

/** The plain text, or undefined when the key is wrong or the text was tampered with. */
export function unseal(sealed: string, keyHex: string): string | undefined {
  try {
    const raw = Buffer.from(sealed, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
