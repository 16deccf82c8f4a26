/**
 * Builds the inbox UI (web/src) into dist/inbox with esbuild: one hashed JS bundle, one
 * hashed CSS file and index.html pointing at them. Runs from `npm install` (prepare),
 * `npm run build`, and at server start when the sources changed since the last build, so
 * nothing generated is committed and no step can be forgotten.
 *
 * Usage: node --import tsx web/build.ts [--check]   (--check: build only when stale)
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { PACKAGE_ROOT } from "../src/config/install-paths.ts";

// From the package root, not this module: the server also runs this file compiled into dist/server/web/.
export const WEB_DIR = join(PACKAGE_ROOT, "web");
export const INBOX_DIST_DIR = join(WEB_DIR, "..", "dist", "inbox");
const MANIFEST = "manifest.json";

export interface InboxManifest {
  /** Hash of every source file: a build is current when it matches. */
  sourceHash: string;
  /** Hashed file names under assets/. */
  script: string;
  stylesheet: string;
  builtAt: string;
}

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else files.push(path);
  }
  return files;
}

/** Content hash of the UI sources and this script (mtimes are unreliable after a checkout). */
export function inboxSourceHash(): string {
  const hash = createHash("sha256");
  const files = [...sourceFiles(join(WEB_DIR, "src")), join(WEB_DIR, "index.html"), join(WEB_DIR, "build.ts")].sort();
  for (const file of files) {
    hash.update(relative(WEB_DIR, file)).update("\0").update(readFileSync(file)).update("\0");
  }
  return hash.digest("hex");
}

export function readInboxManifest(outDir = INBOX_DIST_DIR): InboxManifest | undefined {
  try {
    return JSON.parse(readFileSync(join(outDir, MANIFEST), "utf8")) as InboxManifest;
  } catch {
    return undefined;
  }
}

/** Builds into a fresh directory and swaps it in, so a reader never sees half a build. */
export async function buildInbox(outDir = INBOX_DIST_DIR): Promise<InboxManifest> {
  const { build } = await import("esbuild");
  const sourceHash = inboxSourceHash();
  const staging = `${outDir}.tmp-${process.pid}-${Date.now()}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, "assets"), { recursive: true });
  try {
    const result = await build({
      entryPoints: { app: join(WEB_DIR, "src", "main.tsx") },
      outdir: join(staging, "assets"),
      entryNames: "[name]-[hash]",
      bundle: true,
      format: "esm",
      target: ["es2022", "chrome110", "firefox110", "safari16"],
      platform: "browser",
      minify: true,
      jsx: "automatic",
      jsxImportSource: "preact",
      legalComments: "none",
      metafile: true,
      logLevel: "silent",
    });
    const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
    const script = outputs.find((name) => name.endsWith(".js"));
    const stylesheet = outputs.find((name) => name.endsWith(".css"));
    if (!script || !stylesheet) throw new Error(`inbox build produced ${outputs.join(", ")}; expected a .js and a .css`);
    const html = readFileSync(join(WEB_DIR, "index.html"), "utf8")
      .replace("{{script}}", `/assets/${script}`)
      .replace("{{stylesheet}}", `/assets/${stylesheet}`);
    writeFileSync(join(staging, "index.html"), html);
    const manifest: InboxManifest = { sourceHash, script, stylesheet, builtAt: new Date().toISOString() };
    writeFileSync(join(staging, MANIFEST), JSON.stringify(manifest, null, 2));
    rmSync(outDir, { recursive: true, force: true });
    try {
      renameSync(staging, outDir);
    } catch (error) {
      // Another process (a parallel test file) swapped in an identical build first.
      if (readInboxManifest(outDir)?.sourceHash !== sourceHash) throw error;
    }
    return manifest;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The current build, building first when it is missing or older than the sources. */
export async function ensureInboxBuild(outDir = INBOX_DIST_DIR): Promise<InboxManifest> {
  const existing = readInboxManifest(outDir);
  if (existing && existing.sourceHash === inboxSourceHash() && existsSync(join(outDir, "index.html"))) return existing;
  return buildInbox(outDir);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const checkOnly = process.argv.includes("--check");
  const started = performance.now();
  const manifest = checkOnly ? await ensureInboxBuild() : await buildInbox();
  const size = (name: string) => readFileSync(join(INBOX_DIST_DIR, "assets", name)).length;
  console.log(
    `inbox built in ${Math.round(performance.now() - started)} ms: ${manifest.script} ${size(manifest.script)} B, ` +
      `${manifest.stylesheet} ${size(manifest.stylesheet)} B → ${relative(process.cwd(), INBOX_DIST_DIR) || "."}`,
  );
}
