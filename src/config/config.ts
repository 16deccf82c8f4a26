import { existsSync } from "node:fs";
import { resolve, join } from "node:path";

/**
 * The only module that reads the environment. Every key has the prefix OPENLINQ_;
 * CLI flags (already parsed into `overrides`) win over the environment.
 * Every problem is collected and reported at once, so a bad start lists them all.
 */

export type StorageConfig =
  | { readonly kind: "sqlite"; readonly file: string }
  | { readonly kind: "postgres"; readonly url: string; readonly schema?: string };

export interface Config {
  readonly host: string;
  readonly port: number;
  /** Base URL used in links we hand out (attachment urls, banner). */
  readonly publicUrl: string;
  /** False when publicUrl was derived from HOST/PORT (then port 0 is resolved after listening). */
  readonly publicUrlExplicit: boolean;
  readonly dataDir: string;
  readonly storage: StorageConfig;
  /** Master key of secrets at rest (OPENLINQ_SECRET_KEY); undefined uses the key file in the data directory. */
  readonly secretKey: Uint8Array | undefined;
  /** Token made valid on start (stored hashed). */
  readonly token: string | undefined;
  /** Numbers provisioned for the bootstrap organization on first start. */
  readonly phoneNumbers: readonly string[];
  /** Requests per second per token; 0 disables the limiter. */
  readonly rateLimit: number;
  /** Requests a token may make at once above the steady rate. */
  readonly rateLimitBurst: number;
  /** Requests with a missing or wrong token a client address may send per minute; 0 disables the limit. */
  readonly authFailureLimit: number;
  readonly maxAttachmentBytes: number;
  /** Attachment downloads running at once in the whole process; the others wait. */
  readonly attachmentDownloadConcurrency: number;
  readonly logLevel: string;
  readonly allowPrivateUrls: boolean;
  /** Run the webhook delivery worker inside this process. */
  readonly worker: boolean;
  /** List answers kept while the store is unchanged (src/http/plugins/read-cache.ts). */
  readonly readCache: boolean;
  /** Run the HTTP API in this process. */
  readonly api: boolean;
  /** Delays between webhook delivery attempts, in milliseconds. */
  readonly webhookRetrySchedule: readonly number[];
  /** The same for V3 subscriptions. */
  readonly v3WebhookRetrySchedule: readonly number[];
  readonly webhookTimeoutMs: number;
  /** Each delay of the schedule varies by ± this fraction (0 keeps the schedule exact). */
  readonly webhookRetryJitter: number;
  /** How long a worker's claim on a delivery holds; longer than the timeout. */
  readonly webhookClaimTtlMs: number;
  /** How often a worker looks for work queued by other processes. */
  readonly webhookPollIntervalMs: number;
  /** Webhook attempts a worker has in flight at once. */
  readonly webhookConcurrency: number;
  /** Days an event and its attempts are kept; 0 keeps them forever. */
  readonly eventRetentionDays: number;
  /** How long the outbound worker holds a job (a send, a simulated step); after a crash it is retried once this passes. */
  readonly outboundClaimTtlMs: number;
  /** How often the outbound worker looks for jobs other processes queued and claims that lapsed. */
  readonly outboundPollIntervalMs: number;
  /** system: real time. virtual: time moves only on POST /openlinq/v1/clock/advance. */
  readonly clock: "system" | "virtual";
  /** Seed of the random source behind simulated jitter; undefined picks one at start. */
  readonly randomSeed: number | undefined;
  /** YAML file of profiles, contacts and chats (absolute path), loaded into a fresh organization and on reset. */
  readonly seedFile: string | undefined;
  /** On SIGTERM: how long in-flight requests and webhook attempts get to finish before the process exits. */
  readonly shutdownTimeoutMs: number;
  /** Port on which `openlinq worker` serves /healthz, /readyz and /metrics; undefined serves none. */
  readonly workerPort: number | undefined;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
  }
}

export type ConfigOverrides = Partial<Record<ConfigKey, string>>;

/** Env key (without prefix) → description and default; docs/configuration.md (generated) and .env.example mirror this list. */
export const CONFIG_KEYS = {
  HOST: { default: "127.0.0.1", doc: "Interface to listen on" },
  PORT: { default: "4010", doc: "Port to listen on (0 picks a free port)" },
  PUBLIC_URL: { default: "", doc: "Base URL for links we hand out; defaults to http://HOST:PORT" },
  DATA_DIR: { default: "./data", doc: "Directory for the SQLite file and stored attachments" },
  DATABASE_URL: { default: "", doc: "postgres://… to use Postgres; empty uses SQLite in DATA_DIR" },
  DATABASE_SCHEMA: { default: "", doc: "Postgres schema to use (created when missing); empty uses the default search_path" },
  SECRET_KEY: {
    default: "",
    doc: "32 random bytes as base64 or hex (openssl rand -base64 32) sealing webhook secrets and keying token hashes; empty uses DATA_DIR/secret.key, created on first start. Every node on one Postgres needs the same key",
  },
  TOKEN: { default: "", doc: "Integration token made valid at start; empty creates a random one on first start" },
  PHONE_NUMBERS: { default: "+19998887777", doc: "Comma list of numbers given to the first organization" },
  RATE_LIMIT: { default: "100", doc: "Requests per second per token (0 disables)" },
  RATE_LIMIT_BURST: { default: "200", doc: "Requests a token may send in a burst above the steady rate" },
  AUTH_FAILURE_LIMIT: {
    default: "60",
    doc: "Requests with a missing or wrong token one client address may send per minute; beyond, 429 without a token lookup (0 disables)",
  },
  MAX_ATTACHMENT_BYTES: { default: String(100 * 1024 * 1024), doc: "Largest attachment accepted, in bytes" },
  ATTACHMENT_DOWNLOAD_CONCURRENCY: {
    default: "8",
    doc: "Attachment URL downloads running at once in the whole server; more wait their turn (each is streamed to disk)",
  },
  LOG_LEVEL: { default: "info", doc: "pino log level (fatal, error, warn, info, debug, trace, silent)" },
  ALLOW_PRIVATE_URLS: { default: "true", doc: "Allow webhook and attachment URLs on loopback/private addresses" },
  READ_CACHE: {
    default: "true",
    doc: "Keep answers of the list routes (chats, messages) and send them again while nothing was committed to the store since; false recomputes every page",
  },
  WORKER: {
    default: "true",
    doc: "Run the background work in the API process: webhook delivery, and queued outbound work (the simulator's schedule, retried sends); with false the node only performs the sends its requests commit, and `openlinq worker` does the rest",
    flag: "--no-worker",
  },
  WEBHOOK_RETRY_SCHEDULE: {
    default: "5s,10s,20s,40s,80s,160s,5m,5m,5m,5m",
    doc: "Delays between webhook attempts (ms/s/m/h suffixes); the default is 10 retries over about 25 minutes",
  },
  V3_WEBHOOK_RETRY_SCHEDULE: {
    default: "5s,10s,30s,1m,2m,4m,5m,5m,7m",
    doc: "Delays between attempts for V3 subscriptions; the default is 10 attempts over about 25 minutes",
  },
  WEBHOOK_RETRY_JITTER_PERCENT: { default: "20", doc: "Each retry delay varies randomly by up to ± this percentage (0 = exact)" },
  WEBHOOK_TIMEOUT: { default: "10s", doc: "Time a webhook receiver has to answer" },
  WEBHOOK_CLAIM_TTL: {
    default: "60s",
    doc: "How long a worker holds a delivery; after a crash its deliveries are retried once this passes (must exceed WEBHOOK_TIMEOUT)",
  },
  WEBHOOK_POLL_INTERVAL: { default: "1s", doc: "How often a worker looks for deliveries queued by other processes" },
  WEBHOOK_CONCURRENCY: { default: "32", doc: "Webhook attempts a worker has in flight at once" },
  EVENT_RETENTION_DAYS: { default: "30", doc: "Days events and delivery attempts are kept (0 = forever)" },
  OUTBOUND_CLAIM_TTL: {
    default: "30s",
    doc: "How long the outbound worker holds a job (a send to the carrier, a simulated delivery, read or reply); after a crash it runs again once this passes",
  },
  OUTBOUND_POLL_INTERVAL: { default: "1s", doc: "How often the outbound worker looks for jobs queued by other processes and claims that lapsed" },
  CLOCK: {
    default: "system",
    doc: "system: real time; virtual: time stands still until POST /openlinq/v1/clock/advance (deterministic tests)",
  },
  RANDOM_SEED: {
    default: "",
    doc: "Integer seed (0-4294967295) of the random source for simulated jitter; empty picks one at start (GET /openlinq/v1/clock shows it)",
  },
  SEED_FILE: {
    default: "",
    doc: "YAML file of handle profiles, contacts and chats loaded into a fresh organization and again on POST /openlinq/v1/reset",
  },
  SHUTDOWN_TIMEOUT: {
    default: "15s",
    doc: "On SIGTERM, how long in-flight requests and webhook attempts get to finish; then the process exits regardless",
  },
  WORKER_PORT: { default: "", doc: "Port on which `openlinq worker` serves /healthz, /readyz and /metrics; empty serves none" },
} as const;

export type ConfigKey = keyof typeof CONFIG_KEYS;

/**
 * The `serve` flag that sets a key: `--` + the key in kebab case (`--rate-limit-burst`), or the
 * key's own `flag`. `--no-worker` is the one boolean flag: it sets WORKER to false.
 */
export function configFlag(key: ConfigKey): string {
  const entry = CONFIG_KEYS[key];
  return "flag" in entry ? entry.flag : `--${key.toLowerCase().replaceAll("_", "-")}`;
}

/** Bytes of the master key of secrets at rest. */
export const SECRET_KEY_BYTES = 32;

/** A key written as base64 (standard or URL alphabet) or hex; undefined unless it is exactly SECRET_KEY_BYTES. */
export function parseSecretKey(text: string): Uint8Array | undefined {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, "hex")
    : /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)
      ? Buffer.from(trimmed, /[-_]/.test(trimmed) ? "base64url" : "base64")
      : undefined;
  return bytes && bytes.byteLength === SECRET_KEY_BYTES ? new Uint8Array(bytes) : undefined;
}

const DURATION = /^(\d+)(ms|s|m|h)?$/;

export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]);
  const unit = match[2] ?? "ms";
  const factor = unit === "ms" ? 1 : unit === "s" ? 1000 : unit === "m" ? 60_000 : 3_600_000;
  return value * factor;
}

function parseBoolean(text: string): boolean | undefined {
  const lower = text.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(lower)) return true;
  if (["0", "false", "no", "off"].includes(lower)) return false;
  return undefined;
}

export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: ConfigOverrides = {},
): Config {
  const problems: string[] = [];
  const read = (key: ConfigKey): string =>
    overrides[key] ?? env[`OPENLINQ_${key}`] ?? CONFIG_KEYS[key].default;

  const integer = (key: ConfigKey, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const text = read(key);
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
      problems.push(`OPENLINQ_${key} must be an integer from ${min} to ${max}, got "${text}"`);
      return Number(CONFIG_KEYS[key].default);
    }
    return value;
  };
  const boolean = (key: ConfigKey): boolean => {
    const value = parseBoolean(read(key));
    if (value === undefined) {
      problems.push(`OPENLINQ_${key} must be true or false, got "${read(key)}"`);
      return parseBoolean(CONFIG_KEYS[key].default) ?? false;
    }
    return value;
  };

  const host = read("HOST");
  const port = integer("PORT", 0, 65535);
  const dataDir = resolve(read("DATA_DIR"));
  const databaseUrl = read("DATABASE_URL").trim();
  let storage: StorageConfig;
  if (databaseUrl === "") {
    storage = { kind: "sqlite", file: join(dataDir, "openlinq.db") };
  } else if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    const schema = read("DATABASE_SCHEMA").trim();
    if (schema !== "" && !/^[a-z_][a-z0-9_]*$/.test(schema)) {
      problems.push(`OPENLINQ_DATABASE_SCHEMA must be a lower-case identifier, got "${schema}"`);
    }
    storage = { kind: "postgres", url: databaseUrl, ...(schema ? { schema } : {}) };
  } else if (databaseUrl.startsWith("sqlite:")) {
    storage = { kind: "sqlite", file: resolve(databaseUrl.slice("sqlite:".length)) };
  } else {
    problems.push(`OPENLINQ_DATABASE_URL must start with postgres:// or sqlite:, got "${databaseUrl}"`);
    storage = { kind: "sqlite", file: join(dataDir, "openlinq.db") };
  }

  const secretKeyText = read("SECRET_KEY").trim();
  const secretKey = secretKeyText === "" ? undefined : parseSecretKey(secretKeyText);
  if (secretKeyText !== "" && !secretKey) {
    problems.push(`OPENLINQ_SECRET_KEY must be ${SECRET_KEY_BYTES} bytes as base64 or hex (make one with: openssl rand -base64 32)`);
  }

  const token = read("TOKEN").trim() || undefined;
  if (token !== undefined && token.length < 8) {
    problems.push("OPENLINQ_TOKEN must be at least 8 characters");
  }

  const phoneNumbers = read("PHONE_NUMBERS")
    .split(",")
    .map((n) => n.trim())
    .filter((n) => n !== "");
  for (const number of phoneNumbers) {
    if (!/^\+[1-9]\d{7,14}$/.test(number)) {
      problems.push(`OPENLINQ_PHONE_NUMBERS entries must be E.164 like +19998887777, got "${number}"`);
    }
  }

  const retrySchedule = (key: ConfigKey): number[] => {
    const delays: number[] = [];
    for (const part of read(key).split(",").map((p) => p.trim()).filter((p) => p !== "")) {
      const ms = parseDuration(part);
      if (ms === undefined) problems.push(`OPENLINQ_${key} has a bad duration "${part}"`);
      else delays.push(ms);
    }
    return delays;
  };
  const webhookRetrySchedule = retrySchedule("WEBHOOK_RETRY_SCHEDULE");
  const v3WebhookRetrySchedule = retrySchedule("V3_WEBHOOK_RETRY_SCHEDULE");
  const webhookTimeoutMs = parseDuration(read("WEBHOOK_TIMEOUT"));
  if (webhookTimeoutMs === undefined || webhookTimeoutMs <= 0) {
    problems.push(`OPENLINQ_WEBHOOK_TIMEOUT must be a duration like 10s, got "${read("WEBHOOK_TIMEOUT")}"`);
  }

  const duration = (key: ConfigKey, min: number): number => {
    const ms = parseDuration(read(key));
    if (ms === undefined || ms < min) {
      problems.push(`OPENLINQ_${key} must be a duration of at least ${min} ms like ${CONFIG_KEYS[key].default}, got "${read(key)}"`);
      return parseDuration(CONFIG_KEYS[key].default)!;
    }
    return ms;
  };
  const webhookClaimTtlMs = duration("WEBHOOK_CLAIM_TTL", 1);
  if (webhookTimeoutMs !== undefined && webhookClaimTtlMs <= webhookTimeoutMs) {
    problems.push(
      `OPENLINQ_WEBHOOK_CLAIM_TTL (${webhookClaimTtlMs} ms) must be longer than OPENLINQ_WEBHOOK_TIMEOUT (${webhookTimeoutMs} ms), or live attempts could be retaken`,
    );
  }

  const logLevel = read("LOG_LEVEL");
  if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(logLevel)) {
    problems.push(`OPENLINQ_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent`);
  }

  const publicUrlText = read("PUBLIC_URL").trim().replace(/\/+$/, "");
  if (publicUrlText !== "" && !/^https?:\/\//.test(publicUrlText)) {
    problems.push(`OPENLINQ_PUBLIC_URL must be an http(s) URL, got "${publicUrlText}"`);
  }
  const displayHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;

  const clock = read("CLOCK").trim();
  if (clock !== "system" && clock !== "virtual") problems.push(`OPENLINQ_CLOCK must be system or virtual, got "${clock}"`);
  const randomSeedText = read("RANDOM_SEED").trim();
  let randomSeed: number | undefined;
  if (randomSeedText !== "") {
    randomSeed = Number(randomSeedText);
    if (!/^\d+$/.test(randomSeedText) || randomSeed > 4294967295) {
      problems.push(`OPENLINQ_RANDOM_SEED must be an integer from 0 to 4294967295, got "${randomSeedText}"`);
      randomSeed = undefined;
    }
  }
  const seedFileText = read("SEED_FILE").trim();
  const seedFile = seedFileText === "" ? undefined : resolve(seedFileText);
  if (seedFile !== undefined && !existsSync(seedFile)) problems.push(`OPENLINQ_SEED_FILE: no file at ${seedFile}`);

  const workerPortText = read("WORKER_PORT").trim();
  const workerPort = workerPortText === "" ? undefined : integer("WORKER_PORT", 0, 65535);

  const config: Config = {
    host,
    port,
    publicUrl: publicUrlText || `http://${displayHost}:${port}`,
    publicUrlExplicit: publicUrlText !== "",
    dataDir,
    storage,
    secretKey,
    token,
    phoneNumbers,
    rateLimit: integer("RATE_LIMIT", 0),
    rateLimitBurst: integer("RATE_LIMIT_BURST", 0),
    authFailureLimit: integer("AUTH_FAILURE_LIMIT", 0),
    maxAttachmentBytes: integer("MAX_ATTACHMENT_BYTES", 1),
    attachmentDownloadConcurrency: integer("ATTACHMENT_DOWNLOAD_CONCURRENCY", 1, 1000),
    logLevel,
    allowPrivateUrls: boolean("ALLOW_PRIVATE_URLS"),
    worker: boolean("WORKER"),
    readCache: boolean("READ_CACHE"),
    api: true,
    webhookRetrySchedule,
    v3WebhookRetrySchedule,
    webhookTimeoutMs: webhookTimeoutMs ?? 10_000,
    webhookRetryJitter: integer("WEBHOOK_RETRY_JITTER_PERCENT", 0, 100) / 100,
    webhookClaimTtlMs,
    webhookPollIntervalMs: duration("WEBHOOK_POLL_INTERVAL", 10),
    webhookConcurrency: integer("WEBHOOK_CONCURRENCY", 1, 1000),
    eventRetentionDays: integer("EVENT_RETENTION_DAYS", 0),
    outboundClaimTtlMs: duration("OUTBOUND_CLAIM_TTL", 100),
    outboundPollIntervalMs: duration("OUTBOUND_POLL_INTERVAL", 10),
    clock: clock === "virtual" ? "virtual" : "system",
    randomSeed,
    seedFile,
    shutdownTimeoutMs: duration("SHUTDOWN_TIMEOUT", 0),
    workerPort,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}
