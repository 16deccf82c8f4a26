import { chmodSync, mkdirSync, openSync, closeSync, statSync } from "node:fs";

/**
 * The data directory holds the database, the secret key and attachments: readable by the
 * user openlinq runs as, and nobody else. Directories are 0700 and files 0600; ones created
 * by earlier versions (0755, 0644) are tightened in place at start.
 */

const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

/** Creates `path` (and its parents) 0700, or tightens it to 0700 when it exists and is ours. */
export function ensurePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: PRIVATE_DIR });
  tighten(path, PRIVATE_DIR);
}

/** Creates `path` empty with mode 0600 when missing, or tightens it to 0600 when it exists and is ours. */
export function ensurePrivateFile(path: string): void {
  closeSync(openSync(path, "a", PRIVATE_FILE));
  tighten(path, PRIVATE_FILE);
}

/** Tightens an existing file to 0600 (SQLite's -wal and -shm files); nothing when missing. */
export function tightenPrivateFile(path: string): void {
  tighten(path, PRIVATE_FILE);
}

function tighten(path: string, mode: number): void {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return;
  }
  // Only our own files: a database file placed in a shared directory by an admin keeps its owner's choice.
  const ours = typeof process.getuid !== "function" || stats.uid === process.getuid();
  if (ours && (stats.mode & 0o777 & ~mode) !== 0) chmodSync(path, mode);
}
