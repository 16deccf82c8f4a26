import { createWriteStream } from "node:fs";
import { copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { DomainError } from "../core/errors.ts";
import { join, resolve } from "node:path";
import type { FileStore } from "../core/ports.ts";

/** Attachment bytes on disk under the data dir, one file per attachment id (a UUID). */
export function createDiskFileStore(directory: string): FileStore {
  const root = resolve(directory);
  const pathOf = (key: string) => {
    if (!/^[0-9a-f-]{36}$/.test(key)) throw new Error(`invalid attachment key ${key}`);
    // Two-level fan-out keeps directories small.
    return join(root, key.slice(0, 2), key);
  };
  return {
    async put(key, data) {
      const path = pathOf(key);
      await mkdir(join(path, ".."), { recursive: true });
      await writeFile(path, data);
    },
    async putStream(key, source, maxBytes) {
      const path = pathOf(key);
      await mkdir(join(path, ".."), { recursive: true });
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
        await pipeline(counted, createWriteStream(path));
      } catch (error) {
        await rm(path, { force: true });
        throw error;
      }
      return written;
    },
    async copy(fromKey, toKey) {
      const to = pathOf(toKey);
      await mkdir(join(to, ".."), { recursive: true });
      await copyFile(pathOf(fromKey), to);
    },
    pathOf,
    async remove(key) {
      await rm(pathOf(key), { force: true });
    },
  };
}
