import { SECRET_KEY_BYTES } from "../config/config.ts";
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from "node:crypto";

/**
 * What the database holds in place of secrets, under one master key kept apart from it (a key
 * file in the data directory, or OPENLINQ_SECRET_KEY; see secret-key.ts):
 *
 * - webhook signing secrets are sealed with AES-256-GCM (`v1.` + base64url of iv, ciphertext
 *   and tag), so a copy of the database file alone does not let anyone sign webhooks;
 * - integration tokens are stored as HMAC-SHA256 under the key, so a short chosen token
 *   cannot be found from a stolen database by hashing guesses.
 *
 * Each use has its own subkey (HKDF), and a fingerprint of the master key is kept in the
 * database so a node started with another key is refused before it writes anything.
 */
export interface SecretBox {
  seal(plaintext: string): string;
  /** Throws when `sealed` was not sealed with this key or was altered. */
  open(sealed: string): string;
  /** The keyed hash under which a token is stored and looked up. */
  tokenHash(token: string): string;
  /** The keyed hash of a token row written before tokens were keyed (its stored SHA-256 hex). */
  rehashLegacyTokenHash(sha256Hex: string): string;
  /** Names the master key without revealing it (stored in the database, shown in errors). */
  readonly fingerprint: string;
}


const SEALED_PREFIX = "v1.";
const IV_BYTES = 12;
const TAG_BYTES = 16;

function subkey(master: Uint8Array, purpose: string): Buffer {
  return Buffer.from(hkdfSync("sha256", master, Buffer.alloc(0), `openlinq ${purpose}`, 32));
}

export function createSecretBox(masterKey: Uint8Array): SecretBox {
  if (masterKey.byteLength !== SECRET_KEY_BYTES) throw new Error(`the secret key must be ${SECRET_KEY_BYTES} bytes`);
  const sealKey = subkey(masterKey, "webhook secrets v1");
  const tokenKey = subkey(masterKey, "tokens v1");
  const fingerprint = subkey(masterKey, "key fingerprint v1").toString("hex").slice(0, 16);
  return {
    fingerprint,
    seal(plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", sealKey, iv);
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return SEALED_PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url");
    },
    open(sealed) {
      if (!sealed.startsWith(SEALED_PREFIX)) throw new Error("not a sealed secret");
      const raw = Buffer.from(sealed.slice(SEALED_PREFIX.length), "base64url");
      if (raw.byteLength < IV_BYTES + TAG_BYTES) throw new Error("sealed secret too short");
      const decipher = createDecipheriv("aes-256-gcm", sealKey, raw.subarray(0, IV_BYTES));
      decipher.setAuthTag(raw.subarray(raw.byteLength - TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.byteLength - TAG_BYTES)), decipher.final()]).toString("utf8");
    },
    // HMAC over the token's SHA-256 rather than the token itself: rows stored as plain SHA-256
    // by earlier versions are rekeyed in place (rehashLegacyTokenHash) without the tokens.
    tokenHash(token) {
      return createHmac("sha256", tokenKey).update(createHash("sha256").update(token, "utf8").digest("hex")).digest("hex");
    },
    rehashLegacyTokenHash(sha256Hex) {
      return createHmac("sha256", tokenKey).update(sha256Hex).digest("hex");
    },
  };
}
