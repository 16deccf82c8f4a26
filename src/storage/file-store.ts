import { mkdir, rm, writeFile } from "node:fs/promises";
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
    pathOf,
    async remove(key) {
      await rm(pathOf(key), { force: true });
    },
  };
}
