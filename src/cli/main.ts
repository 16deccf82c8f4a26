import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { renderConfigOptions } from "../config/config-docs.ts";
import { PACKAGE_ROOT } from "../config/install-paths.ts";
import {
  CONFIG_KEYS,
  ConfigError,
  configFlag,
  loadConfig,
  type ConfigKey,
  type ConfigOverrides,
} from "../config/config.ts";
import { DomainError } from "../core/errors.ts";
import { DOCTOR_USAGE, runDoctor } from "./doctor.ts";
import { LISTEN_USAGE, runListen } from "./listen.ts";
import { UsageError } from "./usage-error.ts";

const COMMANDS = ["serve", "worker", "migrate", "tokens", "numbers", "orgs", "doctor", "listen", "export", "import"] as const;

function usage(): string {
  return `openlinq ${readVersion()} — a self-hosted Linq Partner API

Usage:
  openlinq serve [options]               API, webhook delivery and inbox in one process (the default)
  openlinq worker [options]              background work only: webhooks, sends, the simulator's schedule
  openlinq migrate [options]             run database migrations and exit
  openlinq tokens create [--org ID]      create an integration token (printed once)
  openlinq numbers add <e164> [--org ID] provision a phone number
  openlinq orgs create <name>            create an organization with an admin user
  openlinq export [--org ID] [--with-secrets] > sandbox.json
                                         the store's state as a sandbox file (secrets only when asked)
  openlinq import <sandbox.json>         load a sandbox file into an empty store
  ${DOCTOR_USAGE}
  ${LISTEN_USAGE}
  openlinq --version | --help

Options (each is also an environment variable; a flag wins over the variable):
${renderConfigOptions()}`;
}

/** The version in package.json, read where the package is (no build step copies it). */
function readVersion(): string {
  const file = join(PACKAGE_ROOT, "package.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}


const CONFIG_FLAGS = (Object.keys(CONFIG_KEYS) as ConfigKey[]).map((key) => ({ key, flag: configFlag(key) }));

/**
 * `openlinq listen --version 3` picks the API version of the forwarded payloads; anywhere else
 * (and without a number) `--version` prints openlinq's own.
 */
function listenVersionFlag(argv: string[]): string[] {
  if (!argv.includes("listen")) return argv;
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const inline = /^--version=(.*)$/.exec(arg);
    if (inline) out.push("--listen-version", inline[1]!);
    else if (arg === "--version" && /^\d+$/.test(argv[i + 1] ?? "")) out.push("--listen-version", argv[++i]!);
    else out.push(arg);
  }
  return out;
}

function parseCommandLine(argv: string[]) {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {
    org: { type: "string" },
    // openlinq export
    "with-secrets": { type: "boolean" },
    // openlinq doctor
    api: { type: "string" },
    event: { type: "string" },
    attempt: { type: "string" },
    signature: { type: "string" },
    "compared-with": { type: "string" },
    secret: { type: "string" },
    timestamp: { type: "string" },
    body: { type: "string" },
    "body-file": { type: "string" },
    scheme: { type: "string" },
    // openlinq listen (and --api, --token)
    "forward-to": { type: "string", multiple: true },
    events: { type: "string" },
    "replay-since": { type: "string" },
    name: { type: "string" },
    "listen-version": { type: "string" },
    "payload-version": { type: "string" },
    help: { type: "boolean", short: "h" },
    version: { type: "boolean" },
  };
  for (const { flag } of CONFIG_FLAGS) {
    options[flag.slice(2)] = { type: flag.startsWith("--no-") ? "boolean" : "string" };
  }
  try {
    return parseArgs({ args: listenVersionFlag(argv), allowPositionals: true, options });
  } catch (error) {
    throw new UsageError(describeParseError(error, Object.keys(options)));
  }
}

/** node:util's parseArgs errors, reworded into one sentence with the fix. */
function describeParseError(error: unknown, known: string[]): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? "";
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const meant = closestOption(option.replace(/^-+/, ""), known);
    return `unknown option ${option}${meant ? `; did you mean --${meant}?` : ""} (openlinq --help lists them)`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    return known.includes(option.replace(/^-+/, "")) && message.includes("argument missing")
      ? `option ${option} needs a value, e.g. ${option} <value> (openlinq --help lists them)`
      : `option ${option} takes no value (openlinq --help lists them)`;
  }
  return `${message.split("\n")[0]} (openlinq --help lists the options)`;
}

/** The known option within two edits of what was typed, if any (a typo, not a guess). */
function closestOption(typed: string, known: string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(typed, name);
    if (distance <= 2 && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** Damerau–Levenshtein distance (a swap of two neighbours counts once: --prot → --port). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, d[i - 2]![j - 2]! + 1);
      d[i]![j] = value;
    }
  }
  return d[a.length]![b.length]!;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await runCommand(argv);
  } catch (error) {
    const sentence = describeStartError(error);
    if (sentence === undefined) throw error;
    console.error(`openlinq: ${sentence}`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  }
}

/** One line for errors a user causes and can fix; undefined for bugs (those keep their stack). */
function describeStartError(error: unknown): string | undefined {
  if (error instanceof UsageError || error instanceof ConfigError || error instanceof DomainError) return error.message;
  const code = (error as { code?: string } | undefined)?.code;
  if (error instanceof Error && code !== undefined && error.message.startsWith("connect ") && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT)$/.test(code)) {
    return `cannot reach the database (${error.message}); start Postgres or fix OPENLINQ_DATABASE_URL`;
  }
  if (code === "SQLITE_CANTOPEN") return `cannot open the SQLite database; check that OPENLINQ_DATA_DIR is writable`;
  return undefined;
}

async function runCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommandLine(argv);
  const [command = "serve", sub, ...rest] = positionals;
  if (values.version || command === "version") {
    console.log(readVersion());
    return;
  }
  if (values.help || command === "help") {
    console.log(usage());
    return;
  }
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new UsageError(`unknown command "${command}"; the commands are ${COMMANDS.join(", ")} (openlinq --help)`);
  }
  const overrides: ConfigOverrides = {};
  for (const { key, flag } of CONFIG_FLAGS) {
    const value = (values as Record<string, unknown>)[flag.slice(2)];
    if (typeof value === "string") overrides[key] = value;
    if (value === true) overrides[key] = "false"; // the --no-* flags
  }
  const config = loadConfig(process.env, overrides);
  const tokenFrom = typeof values.token === "string" ? "--token" : "OPENLINQ_TOKEN";
  if (command === "doctor") {
    // A client of a running server: of the config it needs only the token (--token or OPENLINQ_TOKEN).
    const text = (name: string) => {
      const value = (values as Record<string, unknown>)[name];
      return typeof value === "string" ? value : undefined;
    };
    process.exitCode = await runDoctor({
      api: text("api") ?? "http://localhost:4010",
      token: config.token,
      event: text("event"),
      attempt: text("attempt"),
      signature: text("signature"),
      comparedWith: text("compared-with"),
      secret: text("secret"),
      timestamp: text("timestamp"),
      body: text("body"),
      bodyFile: text("body-file"),
      scheme: text("scheme"),
    });
    return;
  }
  if (command === "listen") {
    const text = (name: string) => {
      const value = (values as Record<string, unknown>)[name];
      return typeof value === "string" ? value : undefined;
    };
    process.exitCode = await runListen(
      {
        api: text("api") ?? "http://localhost:4010",
        token: config.token || undefined,
        forwardTo: (values["forward-to"] as string[] | undefined) ?? [],
        events: text("events"),
        replaySince: text("replay-since"),
        name: text("name"),
        version: text("listen-version"),
        payloadVersion: text("payload-version"),
      },
      {
        out: (line) => console.log(line),
        stopped: new Promise((resolve) => {
          process.once("SIGINT", () => resolve());
          process.once("SIGTERM", () => resolve());
        }),
        now: () => Date.now(),
      },
    );
    return;
  }
  // Loaded only now, so --help, --version and mistakes answer without compiling the server.
  const commands = await import("./commands.ts");
  switch (command) {
    case "serve":
      return await commands.serve(config, tokenFrom);
    case "worker":
      return await commands.runWorker(config);
    case "migrate":
      return await commands.migrate(config);
    case "export":
      return await commands.exportToStdout(config, { org: typeof values.org === "string" ? values.org : undefined, withSecrets: values["with-secrets"] === true });
    case "import":
      return await commands.importFromFile(config, sub);
    default:
      return await commands.provision(config, command, sub, rest, typeof values.org === "string" ? values.org : undefined);
  }
}

