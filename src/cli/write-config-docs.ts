import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { replaceConfigTable } from "../config/config-docs.ts";

// `npm run docs:config`: rewrites the generated table of docs/configuration.md from CONFIG_KEYS.
const file = join(dirname(fileURLToPath(import.meta.url)), "../../docs/configuration.md");
const before = readFileSync(file, "utf8");
const after = replaceConfigTable(before);
if (after !== before) writeFileSync(file, after);
console.log(after === before ? "docs/configuration.md is up to date" : "docs/configuration.md: table rewritten");
