import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import type { Logger } from "pino";
import { buildApp, buildWorker, openSecrets } from "../app.ts";
import { ensurePrivateDir } from "../storage/private-files.ts";
import type { Config } from "../config/config.ts";
import { addPhoneNumber, createOrganization, createToken, type BootstrapResult } from "../core/accounts/accounts.service.ts";
import { DomainError } from "../core/errors.ts";
import { cryptoIds, systemClock } from "../core/system.ts";
import { openStorage } from "../storage/database.ts";
import { createStore } from "../storage/store.ts";
import { UsageError } from "./usage-error.ts";
import { createLogger } from "../observability/logger.ts";
import { sandboxFileToJson } from "../core/transfer/sandbox-file.ts";
import { exportSandbox, importSandbox, type TransferDeps } from "../core/transfer/sandbox-transfer.service.ts";
import { createDiskFileStore } from "../storage/file-store.ts";
import { sandboxTransferRepository } from "../storage/sandbox-transfer.repository.ts";

/** The subcommands that touch the database; main.ts parses the command line and loads this. */

export async function migrate(config: Config): Promise<void> {
  const storage = openStorage(config.storage);
  try {
    const applied = await storage.migrate();
    console.log(applied.length ? `applied: ${applied.join(", ")}` : "database is up to date");
  } finally {
    await storage.destroy();
  }
}

export async function provision(
  config: Config,
  command: string,
  sub: string | undefined,
  rest: string[],
  orgFlag: string | undefined,
): Promise<void> {
  ensurePrivateDir(config.dataDir);
  const storage = openStorage(config.storage);
  await storage.migrate();
  const secrets = await openSecrets(config, storage, createLogger(config.logLevel));
  const deps = { store: createStore(storage.db, { secrets }), clock: systemClock, ids: cryptoIds };
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
      const forms = { tokens: "tokens create [--org ID]", numbers: "numbers add <e164> [--org ID]", orgs: "orgs create <name>" };
      throw new UsageError(`usage: openlinq ${forms[command as keyof typeof forms]}`);
    }
  } finally {
    await storage.destroy();
  }
}

export async function serve(config: Config, tokenFrom: string): Promise<void> {
  // Before anything is written: a start that fails here must not create (and lose) a token.
  await assertPortFree(config.host, config.port);
  const logger = createLogger(config.logLevel);
  const openlinq = await buildApp(config, { logger });
  try {
    await openlinq.listen();
  } catch (error) {
    await openlinq.close();
    throw listenError(error, config.host, config.port);
  }
  process.stdout.write(renderBanner(config, openlinq.baseUrl(), openlinq.bootstrap, tokenFrom));
  exitOnSignal(logger, "openlinq", (graceMs) => openlinq.close({ graceMs }), config.shutdownTimeoutMs);
}

/**
 * SIGTERM and SIGINT: `close` drains within the configured shutdown timeout; a second timer
 * a little later exits regardless, should anything hang past it (claims then expire).
 */
function exitOnSignal(logger: Logger, what: string, close: (graceMs: number) => Promise<void>, graceMs: number): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, graceMs }, `${what} shutting down`);
    setTimeout(() => {
      logger.error({ graceMs }, `${what} did not stop within the shutdown timeout; exiting`);
      process.exit(1);
    }, graceMs + HARD_EXIT_MARGIN_MS).unref();
    try {
      await close(graceMs);
      logger.info(`${what} stopped`);
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, `${what} failed to shut down cleanly`);
      process.exit(1);
    }
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

/** Closing the database and the listeners after the drain takes well under this. */
const HARD_EXIT_MARGIN_MS = 5_000;

/** What the start prints: where to point a client, how to sign in, and where each thing came from. */
function renderBanner(config: Config, base: string, bootstrap: BootstrapResult, tokenFrom: string): string {
  const numbers = bootstrap.phoneNumbers.map((n) => n.phoneNumber).join(", ");
  // An organization made earlier (e.g. with `openlinq orgs create`) gets the configured numbers too; say so.
  const added =
    bootstrap.phoneNumbersAdded.length > 0 && !bootstrap.organizationCreated
      ? `   (${bootstrap.phoneNumbersAdded.join(", ")} added now to organization ${bootstrap.organization.id} "${bootstrap.organization.name}" from OPENLINQ_PHONE_NUMBERS)`
      : "";
  const lines = [
    "",
    "  openlinq is running",
    `  API        ${base}/api/partner/v2`,
    `  Docs       ${base}/docs`,
    // The fragment is never sent to the server; the page moves the token to session storage.
    // Only a token made now is printed whole: a chosen one is known already (see describeToken).
    bootstrap.token !== undefined && config.token === undefined
      ? `  Inbox      ${base}/#token=${encodeURIComponent(bootstrap.token)}`
      : `  Inbox      ${base}/   (sign in with your integration token)`,
    numbers === ""
      ? "  Numbers    (none; add one with npx openlinq numbers add +1…)"
      : `  Numbers    ${numbers}${added}`,
    `  Token      ${describeToken(config, bootstrap, tokenFrom)}`,
    `  Database   ${config.storage.kind === "sqlite" ? config.storage.file : "postgres"}`,
    ...(config.clock === "virtual" ? ["  Clock      virtual: time moves only on POST /openlinq/v1/clock/advance"] : []),
    ...(config.seedFile ? [`  Seed file  ${config.seedFile}`] : []),
    "",
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * A chosen token (OPENLINQ_TOKEN, --token) shows as its first few characters only: terminal
 * scrollback and captured logs outlive the start, and whoever chose it knows it. A token made
 * now is shown whole, once, since nobody knows it yet.
 */
function describeToken(config: Config, bootstrap: BootstrapResult, tokenFrom: string): string {
  if (config.token !== undefined) return `${tokenPrefix(config.token)}…   (from ${tokenFrom}; shown by its first characters only)`;
  if (bootstrap.token !== undefined) return `${bootstrap.token}   (new; shown once — keep it)`;
  const labels = bootstrap.earlierTokenLabels;
  const origin = labels.includes("cli")
    ? "created earlier by `openlinq tokens create`"
    : labels.includes("OPENLINQ_TOKEN")
      ? "set earlier with OPENLINQ_TOKEN"
      : "created on an earlier start";
  return `(${origin} and shown then; a new one: npx openlinq tokens create)`;
}

/** At most 4 characters, and never more than a third of the token (chosen tokens may be as short as 8). */
function tokenPrefix(token: string): string {
  return token.slice(0, Math.min(4, Math.floor(token.length / 3)));
}

/** Refuses to start on a port something else holds, before the database is touched. */
async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once("error", reject);
      probe.listen({ host, port, exclusive: true }, resolve);
    });
  } catch (error) {
    throw listenError(error, host, port);
  } finally {
    await new Promise<void>((resolve) => (probe.listening ? probe.close(() => resolve()) : resolve()));
  }
}

function listenError(error: unknown, host: string, port: number): unknown {
  switch ((error as { code?: string }).code) {
    case "EADDRINUSE":
      return new UsageError(`port ${port} is in use; pick another with --port or OPENLINQ_PORT`);
    case "EACCES":
      return new UsageError(`port ${port} needs more privileges; pick one above 1023 with --port or OPENLINQ_PORT`);
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
      return new UsageError(`cannot listen on host ${host}; pick another with --host or OPENLINQ_HOST`);
    default:
      return error;
  }
}

/** The background work alone (webhooks, outbound jobs). Several may run on one Postgres database; on SQLite they poll. */
export async function runWorker(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  const standalone = await buildWorker(config, { logger });
  process.stdout.write(
    `\n  openlinq webhook worker is running (${standalone.worker.id})\n` +
      `  Outbound   sends and the simulator's schedule (${standalone.outbound.id})\n` +
      `  Database   ${config.storage.kind === "sqlite" ? config.storage.file : "postgres"}\n` +
      (standalone.opsUrl ? `  Health     ${standalone.opsUrl}/healthz, /readyz, /metrics\n` : "") +
      "\n",
  );
  exitOnSignal(logger, "openlinq webhook worker", (graceMs) => standalone.close({ graceMs }), config.shutdownTimeoutMs);
  // Timers are unref'd; this keeps the process alive until a signal arrives.
  setInterval(() => undefined, 1 << 30);
}

/** `openlinq export`: the store's state (every organization, or `--org`) as a sandbox file, on stdout. */
export async function exportToStdout(config: Config, options: { org: string | undefined; withSecrets: boolean }): Promise<void> {
  const orgId = options.org === undefined ? undefined : Number(options.org);
  if (orgId !== undefined && !Number.isInteger(orgId)) throw new UsageError("--org takes an organization id");
  await withTransfer(config, async (deps) => {
    const file = await exportSandbox(deps, { ...(orgId === undefined ? {} : { orgIds: [orgId] }), secrets: options.withSecrets });
    const text = `${JSON.stringify(sandboxFileToJson(file), null, 2)}\n`;
    // Waits for a slow pipe (`> sandbox.json` on a big store) before the process may exit.
    await new Promise<void>((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())));
  });
}

/** `openlinq import <file>`: loads a sandbox file into an empty store (each organization under its own id). */
export async function importFromFile(config: Config, path: string | undefined): Promise<void> {
  if (!path) throw new UsageError("usage: openlinq import <sandbox.json> (a file written by openlinq export)");
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new UsageError(`cannot read ${path} as JSON: ${(error as Error).message}`);
  }
  await withTransfer(config, async (deps) => {
    const summary = await importSandbox(deps, parsed);
    for (const org of summary.organizations) {
      console.log(
        `imported organization ${org.id}: ${org.chats} chats, ${org.messages} messages, ${org.attachments} attachments, ` +
          `${org.contacts} contacts, ${org.webhook_subscriptions} webhook subscriptions`,
      );
    }
  });
}

async function withTransfer(config: Config, work: (deps: TransferDeps) => Promise<void>): Promise<void> {
  const storage = openStorage(config.storage);
  try {
    await storage.migrate();
    const secrets = await openSecrets(config, storage, createLogger(config.logLevel));
    await work({
      transfer: sandboxTransferRepository(storage.db, storage.dialect, secrets),
      files: createDiskFileStore(join(config.dataDir, "attachments")),
      clock: systemClock,
    });
  } finally {
    await storage.destroy();
  }
}
