import { parseArgs } from "node:util";
import pino from "pino";
import { buildApp, buildWorker } from "../app.ts";
import { ConfigError, loadConfig, type ConfigOverrides } from "../config/config.ts";
import { addPhoneNumber, createOrganization, createToken } from "../core/accounts/accounts.service.ts";
import { DomainError } from "../core/errors.ts";
import { cryptoIds, systemClock } from "../core/system.ts";
import { openStorage } from "../storage/database.ts";
import { DOCTOR_USAGE, runDoctor } from "./doctor.ts";
import { createStore } from "../storage/store.ts";

const USAGE = `openlinq — a self-hosted Linq Partner API

Usage:
  openlinq serve [--host H] [--port P] [--data-dir D] [--database-url URL] [--token T] [--no-worker]
                 [--clock system|virtual] [--seed-file FILE.yaml] [--random-seed N]
  openlinq worker [--data-dir D] [--database-url URL]
                                        deliver webhooks only (pair with \`serve --no-worker\`)
  openlinq migrate                      run database migrations and exit
  openlinq tokens create [--org ID]     create an integration token (printed once)
  openlinq numbers add <e164> [--org ID] provision a phone number
  openlinq orgs create <name>           create an organization with an admin user
  ${DOCTOR_USAGE}

Every flag can also be set with an OPENLINQ_* environment variable (see README).`;

/** CLI flags → config overrides (flags win over the environment). */
const FLAG_KEYS = {
  host: "HOST",
  port: "PORT",
  "data-dir": "DATA_DIR",
  "database-url": "DATABASE_URL",
  "database-schema": "DATABASE_SCHEMA",
  token: "TOKEN",
  "phone-numbers": "PHONE_NUMBERS",
  "rate-limit": "RATE_LIMIT",
  "log-level": "LOG_LEVEL",
  "public-url": "PUBLIC_URL",
  clock: "CLOCK",
  "seed-file": "SEED_FILE",
  "random-seed": "RANDOM_SEED",
} as const;

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...Object.fromEntries(Object.keys(FLAG_KEYS).map((flag) => [flag, { type: "string" as const }])),
      org: { type: "string" },
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
      "no-worker": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command = "serve", sub, ...rest] = positionals;
  if (values.help || command === "help") {
    console.log(USAGE);
    return;
  }
  const overrides: ConfigOverrides = {};
  for (const [flag, key] of Object.entries(FLAG_KEYS)) {
    const value = (values as Record<string, unknown>)[flag];
    if (typeof value === "string") overrides[key] = value;
  }
  if (values["no-worker"]) overrides.WORKER = "false";

  try {
    const config = loadConfig(process.env, overrides);
    switch (command) {
      case "doctor":
        // A client of a running server: of the config it needs only the token (--token or OPENLINQ_TOKEN).
        process.exitCode = await runDoctor({
          api: values.api ?? "http://localhost:4010",
          token: config.token,
          event: values.event,
          attempt: values.attempt,
          signature: values.signature,
          comparedWith: values["compared-with"],
          secret: values.secret,
          timestamp: values.timestamp,
          body: values.body,
          bodyFile: values["body-file"],
          scheme: values.scheme,
        });
        return;
      case "serve":
        return await serve(config);
      case "worker":
        return await runWorker(config);
      case "migrate": {
        const storage = openStorage(config.storage);
        const applied = await storage.migrate();
        await storage.destroy();
        console.log(applied.length ? `applied: ${applied.join(", ")}` : "database is up to date");
        return;
      }
      case "tokens":
      case "numbers":
      case "orgs":
        return await provision(config, command, sub, rest, values.org);
      default:
        console.error(`unknown command "${command}"\n\n${USAGE}`);
        process.exitCode = 2;
    }
  } catch (error) {
    if (error instanceof ConfigError || error instanceof DomainError) {
      console.error(`openlinq: ${error.message}`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}

async function provision(
  config: ReturnType<typeof loadConfig>,
  command: string,
  sub: string | undefined,
  rest: string[],
  orgFlag: string | undefined,
): Promise<void> {
  const storage = openStorage(config.storage);
  await storage.migrate();
  const deps = { store: createStore(storage.db), clock: systemClock, ids: cryptoIds };
  const orgId = orgFlag === undefined ? undefined : Number(orgFlag);
  try {
    if (orgId !== undefined && !Number.isInteger(orgId)) throw new DomainError("validation_failed", "--org takes an organization id");
    if (command === "tokens" && sub === "create") {
      const result = await createToken(deps, { orgId });
      console.log(`token for organization ${result.orgId} (shown once, stored hashed):\n${result.token}`);
    } else if (command === "numbers" && sub === "add" && rest[0]) {
      const result = await addPhoneNumber(deps, rest[0], orgId);
      console.log(`${result.created ? "added" : "already present"}: ${result.number.phoneNumber} (id ${result.number.id}, organization ${result.number.orgId})`);
    } else if (command === "orgs" && sub === "create" && rest.length > 0) {
      const org = await createOrganization(deps, rest.join(" "));
      console.log(`created organization ${org.id} "${org.name}"; next: openlinq tokens create --org ${org.id}`);
    } else {
      console.error(USAGE);
      process.exitCode = 2;
    }
  } finally {
    await storage.destroy();
  }
}

async function serve(config: ReturnType<typeof loadConfig>): Promise<void> {
  const logger = pino({ level: config.logLevel });
  const openlinq = await buildApp(config, { logger });
  await openlinq.listen();
  const base = openlinq.baseUrl();
  const { bootstrap } = openlinq;
  const lines = [
    "",
    "  openlinq is running",
    `  API        ${base}/api/partner/v2`,
    `  Docs       ${base}/docs`,
    // The fragment is never sent to the server; the page moves the token to session storage.
    bootstrap.token
      ? `  Inbox      ${base}/#token=${encodeURIComponent(bootstrap.token)}`
      : `  Inbox      ${base}/   (sign in with your integration token)`,
    `  Numbers    ${bootstrap.phoneNumbers.map((n) => n.phoneNumber).join(", ")}`,
    bootstrap.token
      ? `  Token      ${bootstrap.token}${bootstrap.tokenCreated && !config.token ? "   (new; shown once — keep it)" : ""}`
      : "  Token      (created on first start; make a new one with `npx openlinq tokens create`)",
    `  Database   ${config.storage.kind === "sqlite" ? config.storage.file : "postgres"}`,
    ...(config.clock === "virtual" ? ["  Clock      virtual: time moves only on POST /openlinq/v1/clock/advance"] : []),
    ...(config.seedFile ? [`  Seed file  ${config.seedFile}`] : []),
    "",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    await openlinq.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

/** Webhook delivery alone. Several may run on one Postgres database; on SQLite they poll. */
async function runWorker(config: ReturnType<typeof loadConfig>): Promise<void> {
  const logger = pino({ level: config.logLevel });
  const standalone = await buildWorker(config, { logger });
  process.stdout.write(
    `\n  openlinq webhook worker is running (${standalone.worker.id})\n` +
      `  Database   ${config.storage.kind === "sqlite" ? config.storage.file : "postgres"}\n\n`,
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "webhook worker shutting down; handing back unfinished deliveries");
    await standalone.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  // Timers are unref'd; this keeps the process alive until a signal arrives.
  setInterval(() => undefined, 1 << 30);
}
