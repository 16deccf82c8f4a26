// The server's build: src/ (and web/build.ts, which the server imports) bundled with the
// packages it uses into dist/server/main.mjs, so `npm start` neither transpiles TypeScript
// nor resolves thousands of module files at every start.
// `node bin/server-build.js` builds (run by `npm install` through `prepare`, and by
// `npm run build`); bin/openlinq.js asks `currentServerBuild()` whether the build matches the
// sources and runs the sources through tsx when it does not (a changed source is never
// ignored). Plain JavaScript: it runs before any TypeScript loader.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
export const SERVER_DIST_DIR = join(ROOT, "dist", "server");
const BUILD_INFO = "build-info.json";
/** What the build reads (package-lock.json: the bundled packages' versions): a change to any makes the build stale. */
const INPUTS = ["src", "web/build.ts", "bin/server-build.js", "package-lock.json"];

/** src/'s TypeScript files, recursively. */
function sourceFiles() {
  return readdirSync(join(ROOT, "src"), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name));
}

function inputFiles() {
  return INPUTS.flatMap((input) => (input === "src" ? sourceFiles() : [join(ROOT, input)])).sort();
}

/** Content hash of every input. */
export function serverSourceHash(files = inputFiles()) {
  const hash = createHash("sha256");
  for (const file of files) hash.update(relative(ROOT, file)).update("\0").update(readFileSync(file)).update("\0");
  return hash.digest("hex");
}

/** Each input's path, size and modification time: equal stamps spare reading the files. */
function inputStamps(files = inputFiles()) {
  return files.map((file) => {
    const stat = statSync(file);
    return `${relative(ROOT, file)}:${stat.size}:${stat.mtimeMs}`;
  });
}

/**
 * The built entry when dist/server was built from exactly the current inputs; undefined
 * otherwise. Stamps first (a stat per file); when one differs, say after a checkout touched
 * every file, the contents decide.
 */
export function currentServerBuild() {
  try {
    const info = JSON.parse(readFileSync(join(SERVER_DIST_DIR, BUILD_INFO), "utf8"));
    const entry = join(SERVER_DIST_DIR, "main.mjs");
    if (!existsSync(entry)) return undefined;
    const files = inputFiles();
    const stamps = inputStamps(files);
    if (stamps.length === info.stamps?.length && stamps.every((stamp, i) => stamp === info.stamps[i])) return entry;
    return info.sourceHash === serverSourceHash(files) ? entry : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Packages left out of the bundle, loaded from node_modules at run time: native code, files
 * read from their own package directory, optional native drivers, and the build tools.
 */
const EXTERNAL = ["better-sqlite3", "pg-native", "@fastify/swagger-ui", "esbuild", "tsx"];

/**
 * Bundles the server (its sources and the packages it imports) into one ES module with
 * esbuild, into a fresh directory swapped in whole, so a starting server never sees half a
 * build. One file, because resolving and reading a few thousand module files was most of
 * the start-up once the TypeScript loader was gone.
 */
export async function buildServer() {
  const { build } = await import("esbuild");
  const files = inputFiles();
  const sourceHash = serverSourceHash(files);
  const stamps = inputStamps(files);
  const staging = `${SERVER_DIST_DIR}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    await build({
      entryPoints: { main: join(ROOT, "src", "cli", "main.ts") },
      outdir: staging,
      outExtension: { ".js": ".mjs" },
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      external: EXTERNAL,
      // CommonJS packages inside an ES module still call require() for Node's own modules.
      banner: { js: 'import { createRequire as createRequireForBundle } from "node:module"; const require = createRequireForBundle(import.meta.url);' },
      sourcemap: "linked",
      // V8 keeps a script's whole source for as long as it runs (functions compile lazily
      // from it). Without comments and indentation the bundle is a third of the size, and
      // plain ASCII (the packages' comments carry "—", "≥", …; esbuild escapes the rest), so
      // V8 keeps it one byte per character: 3.6 MB of heap instead of 10.3 MB. Names are
      // kept (no identifier minification), so stack traces still read; the map has the rest.
      minifyWhitespace: true,
      legalComments: "none",
      logLevel: "warning",
    });
    writeFileSync(join(staging, BUILD_INFO), JSON.stringify({ sourceHash, builtAt: new Date().toISOString(), stamps }, null, 2));
    rmSync(SERVER_DIST_DIR, { recursive: true, force: true });
    renameSync(staging, SERVER_DIST_DIR);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = performance.now();
  await buildServer();
  console.log(`server built in ${Math.round(performance.now() - started)} ms → ${relative(process.cwd(), SERVER_DIST_DIR) || "."}`);
}
