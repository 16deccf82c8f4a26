import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CONFIG_KEYS } from "../src/config/config.ts";
import { renderConfigTable } from "../src/config/config-docs.ts";

/**
 * The configuration table (docs/configuration.md) and .env.example are how users learn the
 * settings: every key the server reads is in both, with the default it really has, and
 * neither documents a key that does not exist.
 */

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const CONFIG_DOC = readFileSync(join(REPO_ROOT, "docs/configuration.md"), "utf8");
const ENV_EXAMPLE = readFileSync(join(REPO_ROOT, ".env.example"), "utf8");
const KEYS = Object.keys(CONFIG_KEYS) as (keyof typeof CONFIG_KEYS)[];

function readmeRows(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const match of CONFIG_DOC.matchAll(/^\| `OPENLINQ_([A-Z0-9_]+)` \| ([^|]*) \|/gm)) {
    rows.set(match[1]!, match[2]!.trim());
  }
  return rows;
}

function envExampleValues(): Map<string, string> {
  const values = new Map<string, string>();
  for (const match of ENV_EXAMPLE.matchAll(/^#? ?OPENLINQ_([A-Z0-9_]+)=(.*)$/gm)) values.set(match[1]!, match[2]!);
  return values;
}

describe("configuration docs", () => {
  it("docs/configuration.md has the table generated from CONFIG_KEYS (npm run docs:config)", () => {
    assert.ok(CONFIG_DOC.includes(renderConfigTable()), "docs/configuration.md's table is stale: run npm run docs:config");
  });

  it("the docs table lists every OPENLINQ_* key with its default", () => {
    const rows = readmeRows();
    for (const key of KEYS) {
      const { default: value } = CONFIG_KEYS[key];
      assert.ok(rows.has(key), `docs/configuration.md has no row for OPENLINQ_${key}`);
      assert.equal(rows.get(key), value === "" ? "*(empty)*" : `\`${value}\``, `docs/configuration.md default of OPENLINQ_${key}`);
    }
    for (const key of rows.keys()) assert.ok(key in CONFIG_KEYS, `docs/configuration.md documents unknown OPENLINQ_${key}`);
  });

  it(".env.example lists every OPENLINQ_* key with its default", () => {
    const values = envExampleValues();
    for (const key of KEYS) {
      assert.ok(values.has(key), `.env.example has no OPENLINQ_${key}`);
      assert.equal(values.get(key), CONFIG_KEYS[key].default, `.env.example default of OPENLINQ_${key}`);
    }
    for (const key of values.keys()) assert.ok(key in CONFIG_KEYS, `.env.example documents unknown OPENLINQ_${key}`);
  });
});

describe("README and docs/", () => {
  const tracked = execFileSync("git", ["ls-files", "-z"], { cwd: REPO_ROOT, encoding: "utf8" })
    .split("\0")
    .filter((file) => file !== "" && existsSync(join(REPO_ROOT, file)));

  it("the README is a newcomer's page: what openlinq is, the two commands, under 250 lines", () => {
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    assert.ok(readme.split("\n").length < 250, `README.md has ${readme.split("\n").length} lines`);
    const firstCommands = readme.slice(0, readme.indexOf("\n## "));
    assert.match(firstCommands, /openlinq is a self-hostable/);
    assert.match(firstCommands, /```bash\nnpm install && npm start\n```/);
    assert.match(firstCommands, /```bash\nnpm test\n```/);
  });

  it("every relative link of README.md and docs/*.md points at a file of the repository", () => {
    const pages = tracked.filter((file) => file === "README.md" || /^docs\/.*\.md$/.test(file));
    assert.ok(pages.length > 1);
    for (const page of pages) {
      const text = readFileSync(join(REPO_ROOT, page), "utf8");
      for (const match of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = match[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        assert.ok(existsSync(join(REPO_ROOT, dirname(page), target)), `${page} links to ${target}, which does not exist`);
      }
    }
  });

  // Built from parts so this file does not match itself.
  const contractDoc = new RegExp(["\\bv[23]", "\\.md\\b"].join(""));
  it("no file cites the contract documents (Linq's V2/V3 notes) a reader of the repository does not have", () => {
    for (const file of tracked) {
      if (file === "package-lock.json" || !/\.(ts|tsx|js|md|css|html|json|yaml|yml)$|^\.ci\//.test(file)) continue;
      const text = readFileSync(join(REPO_ROOT, file), "utf8");
      assert.doesNotMatch(text, contractDoc, `${file} cites a contract document`);
    }
  });
});
