import { linkSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { parseSecretKey, SECRET_KEY_BYTES } from "../config/config.ts";
import { ensurePrivateDir, tightenPrivateFile } from "./private-files.ts";

export interface SecretKey {
  key: Uint8Array;
  /** Where it came from, for messages: OPENLINQ_SECRET_KEY or the key file's path. */
  origin: string;
  /** True when this start created the key file. */
  created: boolean;
}

/** The key file's name in the data directory. */
export const SECRET_KEY_FILE = "secret.key";

/**
 * The master key of secrets at rest (see secret-box.ts): OPENLINQ_SECRET_KEY when set, else
 * `secret.key` in the data directory, created 0600 on first start. Processes sharing the data
 * directory share the file; nodes on other machines need OPENLINQ_SECRET_KEY (the database
 * remembers the key's fingerprint and refuses a node with another key).
 */
export function loadSecretKey(dataDir: string, configured: Uint8Array | undefined): SecretKey {
  if (configured) return { key: configured, origin: "OPENLINQ_SECRET_KEY", created: false };
  ensurePrivateDir(dataDir);
  const path = join(dataDir, SECRET_KEY_FILE);
  // Written whole under a temporary name, then linked into place: two processes starting at
  // once on a fresh data directory both end up with the one key that won the link.
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  let created = false;
  try {
    writeFileSync(temporary, `${randomBytes(SECRET_KEY_BYTES).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
    linkSync(temporary, path);
    created = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    try {
      unlinkSync(temporary);
    } catch {
      // never written
    }
  }
  tightenPrivateFile(path);
  const key = parseSecretKey(readFileSync(path, "utf8"));
  if (!key) throw new Error(`${path} does not hold a ${SECRET_KEY_BYTES}-byte key (base64); restore it from a backup`);
  return { key, origin: path, created };
}
