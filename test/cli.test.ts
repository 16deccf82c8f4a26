import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { CONFIG_KEYS, configFlag } from "../src/config/config.ts";

/**
 * The `openlinq` command as a newcomer meets it in a terminal: mistakes get one sentence that
 * says what to do (never a stack trace), and the start banner tells the truth about where the
 * token and the numbers came from. Every run is a real child process of bin/openlinq.js.
 */

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(REPO_ROOT, "bin/openlinq.js");
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;
/** A cold tsx cache on a slow machine takes a while to compile the sources. */
const RUN_TIMEOUT_MS = 60_000;

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the command to its end with only the given OPENLINQ_* keys (the caller's are dropped). */
function runOpenlinq(args: string[], openlinqEnv: Record<string, string> = {}): Promise<Finished> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("OPENLINQ_")) env[key] = value;
  Object.assign(env, { OPENLINQ_LOG_LEVEL: "warn" }, openlinqEnv);
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`openlinq ${args.join(" ")} did not finish; output:\n${stdout}${stderr}`));
    }, RUN_TIMEOUT_MS);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts `serve`, waits for the banner, stops it with SIGTERM; resolves with the banner. */
async function startBanner(args: string[], openlinqEnv: Record<string, string>): Promise<string> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("OPENLINQ_")) env[key] = value;
  Object.assign(env, { OPENLINQ_LOG_LEVEL: "warn" }, openlinqEnv);
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", ...args], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner; output:\n${output}`)), RUN_TIMEOUT_MS);
      child.stdout.on("data", () => {
        if (/^\s*Database\s/m.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on("close", (code) => {
        clearTimeout(timer);
        reject(new Error(`serve exited with ${code} before the banner; output:\n${output}`));
      });
    });
  } finally {
    child.kill("SIGTERM");
    await closed;
  }
  return output;
}

/** One line of output, no stack frame. */
function assertOneSentence(text: string, what: string): void {
  const lines = text.trimEnd().split("\n");
  assert.equal(lines.length, 1, `${what} is one line, got:\n${text}`);
  assert.doesNotMatch(text, /^\s+at /m, `${what} shows no stack trace`);
}

describe("openlinq command: mistakes get one sentence with the fix", () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), "openlinq-cli-"));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it("a misspelt flag names the flag it resembles and exits non-zero", async () => {
    const run = await runOpenlinq(["serve", "--prot", "4150"], { OPENLINQ_DATA_DIR: dataDir });
    assert.notEqual(run.code, 0);
    assertOneSentence(run.stderr, "the error");
    assert.match(run.stderr, /unknown option --prot/);
    assert.match(run.stderr, /--port/, "suggests the flag that was meant");
    assert.equal(run.stdout, "");
  });

  it("a flag without its value says which value is missing", async () => {
    const run = await runOpenlinq(["serve", "--port"], { OPENLINQ_DATA_DIR: dataDir });
    assert.notEqual(run.code, 0);
    assertOneSentence(run.stderr, "the error");
    assert.match(run.stderr, /--port needs a value/);
  });

  it("--version prints the version and exits 0", async () => {
    const run = await runOpenlinq(["--version"]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), VERSION);
    assert.equal(run.stderr, "");
  });

  it("a port already in use is one sentence naming --port and OPENLINQ_PORT", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const run = await runOpenlinq(["serve", "--port", String(port)], { OPENLINQ_DATA_DIR: dataDir });
      assert.notEqual(run.code, 0);
      assertOneSentence(run.stderr, "the error");
      assert.match(run.stderr, new RegExp(`port ${port} is in use; pick another with --port or OPENLINQ_PORT`));
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it("an unknown command lists the commands in one line", async () => {
    const run = await runOpenlinq(["serv"]);
    assert.notEqual(run.code, 0);
    assertOneSentence(run.stderr, "the error");
    assert.match(run.stderr, /unknown command "serv".*serve/);
  });

  it("--help lists every configuration key with its flag", async () => {
    const run = await runOpenlinq(["--help"]);
    assert.equal(run.code, 0, run.stderr);
    for (const key of Object.keys(CONFIG_KEYS) as (keyof typeof CONFIG_KEYS)[]) {
      assert.ok(run.stdout.includes(`OPENLINQ_${key}`), `--help mentions OPENLINQ_${key}`);
      assert.ok(run.stdout.includes(configFlag(key)), `--help lists ${configFlag(key)}`);
    }
  });

  it("every flag --help lists is accepted", async () => {
    // --random-seed is a flag like any other: a bad value reaches the config check, not the parser.
    const run = await runOpenlinq(["migrate", "--random-seed", "x"], { OPENLINQ_DATA_DIR: dataDir });
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /OPENLINQ_RANDOM_SEED must be an integer/);
    assert.doesNotMatch(run.stderr, /unknown option/);
    const worker = await runOpenlinq(["migrate", "--webhook-concurrency", "4", "--rate-limit-burst", "10"], { OPENLINQ_DATA_DIR: dataDir });
    assert.equal(worker.code, 0, worker.stderr);
  });
});

describe("openlinq serve: the banner says where the token and numbers came from", () => {
  const dirs: string[] = [];
  const freshDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "openlinq-banner-"));
    dirs.push(dir);
    return dir;
  };
  after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it("a token from OPENLINQ_TOKEN is labelled as such and shown by its prefix only, with API, inbox and number", async () => {
    const dataDir = freshDir();
    const banner = await startBanner([], { OPENLINQ_DATA_DIR: dataDir, OPENLINQ_TOKEN: "env-token-12345" });
    assert.match(banner, /^\s*API\s+http:\/\/127\.0\.0\.1:\d+\/api\/partner\/v2$/m);
    assert.match(banner, /^\s*Inbox\s+http:\/\/127\.0\.0\.1:\d+\/\s+\(sign in with your integration token\)$/m);
    assert.match(banner, /^\s*Token\s+env-…\s+\(from OPENLINQ_TOKEN; shown by its first characters only\)$/m);
    assert.doesNotMatch(banner, /env-token-12345/);
    assert.match(banner, /^\s*Numbers\s+\+19998887777$/m);
    const flagged = await startBanner(["--token", "flag-token-12345"], { OPENLINQ_DATA_DIR: dataDir });
    assert.match(flagged, /^\s*Token\s+flag…\s+\(from --token; shown by its first characters only\)$/m);
    assert.doesNotMatch(flagged, /flag-token-12345/);
  });

  it("a token made on an earlier start is not claimed to be new", async () => {
    const dataDir = freshDir();
    const first = await startBanner([], { OPENLINQ_DATA_DIR: dataDir });
    assert.match(first, /^\s*Token\s+olq_\S+\s+\(new; shown once — keep it\)$/m);
    assert.match(first, /^\s*Inbox\s+http:\/\/127\.0\.0\.1:\d+\/#token=olq_\S+$/m);
    const second = await startBanner([], { OPENLINQ_DATA_DIR: dataDir });
    assert.match(second, /^\s*Token\s+\(created on an earlier start and shown then; a new one: npx openlinq tokens create\)$/m);
  });

  it("an organization made with the CLI: says the token came from the CLI and that the default number was added", async () => {
    const dataDir = freshDir();
    const env = { OPENLINQ_DATA_DIR: dataDir };
    const org = await runOpenlinq(["orgs", "create", "Acme"], env);
    assert.equal(org.code, 0, org.stderr);
    const number = await runOpenlinq(["numbers", "add", "+15550001111"], env);
    assert.equal(number.code, 0, number.stderr);
    const token = await runOpenlinq(["tokens", "create"], env);
    assert.equal(token.code, 0, token.stderr);

    const banner = await startBanner([], env);
    assert.match(banner, /^\s*Token\s+\(created earlier by `openlinq tokens create` and shown then; a new one: npx openlinq tokens create\)$/m);
    assert.match(
      banner,
      /^\s*Numbers\s+\+15550001111, \+19998887777\s+\(\+19998887777 added now to organization 1 "Acme" from OPENLINQ_PHONE_NUMBERS\)$/m,
    );
    const again = await startBanner([], env);
    assert.match(again, /^\s*Numbers\s+\+15550001111, \+19998887777$/m, "added once, said once");
  });
});
