import { randomUUID } from "node:crypto";
import { createWriteStream, mkdirSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileTypeFromFile } from "file-type";
import { DomainError } from "../core/errors.ts";
import type { FileStore, StagedFile } from "../core/ports.ts";

const KEY = /^[0-9a-f-]{36}$/;
/** Staged files sit beside the stored ones (same file system, so adopting is a rename). */
const STAGING_DIR = ".staging";

export interface DiskFileStore extends FileStore {
  /**
   * Removes what a crash or a failed transaction left behind: staged files, and stored
   * files that no attachment row names. Only files older than `olderThanMs` are touched,
   * so a request in flight in another process on the same data dir keeps its files.
   */
  sweepOrphans(options: {
    olderThanMs: number;
    knownKeys(keys: readonly string[]): Promise<Set<string>>;
    now?: Date;
  }): Promise<{ staged: number; orphans: number }>;
}

/** Attachment bytes on disk under the data dir, one file per attachment id (a UUID). */
export function createDiskFileStore(directory: string): DiskFileStore {
  const root = resolve(directory);
  const staging = join(root, STAGING_DIR);
  const pathOf = (key: string) => {
    if (!KEY.test(key)) throw new Error(`invalid attachment key ${key}`);
    // Two-level fan-out keeps directories small.
    return join(root, key.slice(0, 2), key);
  };
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  const stagedPathOf = (key: string) => {
    if (!KEY.test(key)) throw new Error(`invalid staged file key ${key}`);
    return join(staging, key);
  };
  return {
    async stage(source, { maxBytes, what }): Promise<StagedFile> {
      // No await before the pipe: a multipart part can fail (truncated body) at any tick,
      // and an error emitted before the pipeline listens would leave it waiting forever.
      const key = randomUUID();
      const path = stagedPathOf(key);
      let size = 0;
      let utf8Text = true;
      const decoder = new TextDecoder("utf-8", { fatal: true });
      // Counts, cuts off at the cap and checks for text on the way through; memory stays at
      // one chunk whatever the file's size.
      const inspect = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          size += chunk.byteLength;
          if (size > maxBytes) {
            done(new DomainError("attachment_too_large", `${what} is larger than the limit of ${maxBytes} bytes`));
            return;
          }
          if (utf8Text) {
            if (chunk.includes(0)) utf8Text = false;
            else {
              try {
                decoder.decode(chunk, { stream: true });
              } catch {
                utf8Text = false;
              }
            }
          }
          done(null, chunk);
        },
      });
      try {
        await pipeline(source, inspect, createWriteStream(path, { flags: "wx", mode: 0o600 }));
      } catch (error) {
        await rm(path, { force: true });
        throw error;
      }
      if (utf8Text) {
        try {
          decoder.decode(); // a multi-byte sequence cut off at the end is not text
        } catch {
          utf8Text = false;
        }
      }
      const detected = size > 0 ? await fileTypeFromFile(path) : undefined;
      return { key, size, detected: detected ? { mime: detected.mime, ext: detected.ext } : undefined, utf8Text };
    },
    async adopt(stagedKey, key) {
      const path = pathOf(key);
      await mkdir(join(path, ".."), { recursive: true, mode: 0o700 });
      await rename(stagedPathOf(stagedKey), path);
    },
    async discard(stagedKey) {
      await rm(stagedPathOf(stagedKey), { force: true });
    },
    async putStream(key, source, maxBytes) {
      const path = pathOf(key);
      await mkdir(join(path, ".."), { recursive: true, mode: 0o700 });
      let written = 0;
      async function* counted() {
        for await (const chunk of source) {
          written += chunk.byteLength;
          if (written > maxBytes) {
            throw new DomainError("attachment_too_large", `The file is larger than ${maxBytes} bytes`);
          }
          yield chunk;
        }
      }
      try {
        await pipeline(counted, createWriteStream(path, { mode: 0o600 }));
      } catch (error) {
        await rm(path, { force: true });
        throw error;
      }
      return written;
    },
    async copy(fromKey, toKey) {
      const to = pathOf(toKey);
      await mkdir(join(to, ".."), { recursive: true, mode: 0o700 });
      await copyFile(pathOf(fromKey), to);
    },
    pathOf,
    read: (key) => readFile(pathOf(key)),
    async remove(key) {
      await rm(pathOf(key), { force: true });
    },
    async sweepOrphans({ olderThanMs, knownKeys, now = new Date() }) {
      const cutoff = now.getTime() - olderThanMs;
      const old = async (path: string) => (await stat(path).catch(() => undefined))?.mtimeMs ?? Infinity;
      let staged = 0;
      for (const name of await readdir(staging).catch(() => [] as string[])) {
        const path = join(staging, name);
        if ((await old(path)) < cutoff) {
          await rm(path, { force: true });
          staged += 1;
        }
      }
      let orphans = 0;
      for (const shard of await readdir(root).catch(() => [] as string[])) {
        if (!/^[0-9a-f]{2}$/.test(shard)) continue;
        const names = (await readdir(join(root, shard)).catch(() => [] as string[])).filter((name) => KEY.test(name));
        for (let i = 0; i < names.length; i += 500) {
          const batch = names.slice(i, i + 500);
          const known = await knownKeys(batch);
          for (const name of batch) {
            if (known.has(name)) continue;
            const path = join(root, shard, name);
            if ((await old(path)) < cutoff) {
              await rm(path, { force: true });
              orphans += 1;
            }
          }
        }
      }
      return { staged, orphans };
    },
  };
}
