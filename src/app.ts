import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import Fastify from "fastify";
import type { Logger } from "pino";
import { ConfigError, type Config } from "./config/config.ts";
import { bootstrap, type BootstrapResult } from "./core/accounts/accounts.service.ts";
import type { CoreDeps, Links } from "./core/deps.ts";
import type { ActivityFeed, Clock, Ids, OutboxSignal, Random, Transport } from "./core/ports.ts";
import { createActivityFeed, cryptoIds, systemClock } from "./core/system.ts";
import { createHttpServer } from "./http/server.ts";
import { encodeFilename } from "./http/content-disposition.ts";
import { createWebhookRenderer } from "./http/webhook-renderers.ts";
import { eventRoutes } from "./http/openlinq/events.routes.ts";
import { faultRoutes } from "./http/openlinq/faults.routes.ts";
import { tokenRoutes } from "./http/openlinq/tokens.routes.ts";
import { scenarioRoutes } from "./http/openlinq/scenarios.routes.ts";
import { transferRoutes } from "./http/openlinq/transfer.routes.ts";
import { sandboxTransferRepository } from "./storage/sandbox-transfer.repository.ts";
import { listenerRoutes } from "./http/openlinq/listeners.routes.ts";
import { V3_WEBHOOK_EVENT_TYPES } from "./http/v3/webhook-payloads.ts";
import { WEBHOOK_EVENT_TYPES } from "./core/model.ts";
import { listenerRepository } from "./storage/listeners.repository.ts";
import { createApiFaults } from "./core/faults/api-faults.service.ts";
import { apiFaultRepository } from "./storage/faults.repository.ts";
import { createHttpSender } from "./delivery/http-sender.ts";
import type { DeliveryRepository } from "./delivery/ports.ts";
import { createDeliveryWorker, type DeliveryWorker } from "./delivery/worker.ts";
import { deliveryRepository } from "./storage/deliveries.repository.ts";
import { createOutboxChannel, type OutboxChannel } from "./storage/outbox-channel.ts";
import { createNotificationBus, type NotificationBus } from "./storage/notification-bus.ts";
import { shareActivityFeed } from "./storage/activity-channel.ts";
import { inboxFace } from "./http/inbox/index.ts";
import { createAttachmentFetcher } from "./net/attachment-fetcher.ts";
import { createDispatcher, createUrlPolicy, type Network } from "./net/safe-dispatcher.ts";
import { openStorage, type StorageHandle } from "./storage/database.ts";
import { createDiskFileStore } from "./storage/file-store.ts";
import { createStore } from "./storage/store.ts";
import { rateLimiterFactory } from "./storage/rate-limit-store.ts";
import { createTokenRevocations } from "./storage/token-revocations.ts";
import { ensurePrivateDir } from "./storage/private-files.ts";
import { createSecretBox, type SecretBox } from "./storage/secret-box.ts";
import { loadSecretKey, SECRET_KEY_FILE } from "./storage/secret-key.ts";
import { secureStoredSecrets, SecretKeyMismatchError } from "./storage/secrets-at-rest.ts";
import { createSeededRandom, freshRandomSeed } from "./clock/seeded-random.ts";
import { createVirtualClock, type VirtualClock } from "./clock/virtual-clock.ts";
import { readSeedFile } from "./config/seed-file.ts";
import { seedIfPristine } from "./transport/simulator/reset.service.ts";
import type { SimulatorDeps, SimulatorStore } from "./transport/simulator/ports.ts";
import { sandboxFace, type SandboxClock } from "./http/sandbox/index.ts";
import { createSimulator, type Simulator } from "./transport/simulator/simulator.transport.ts";
import { DomainError } from "./core/errors.ts";
import {
  CHAT_SIGNAL_JOB,
  performChatSignal,
  performSend,
  SEND_MESSAGE_JOB,
  type LoadedSend,
} from "./core/messages/outbound.service.ts";
import type { ChatSignal } from "./core/ports.ts";
import { createOutboundWorker, type JobHandler, type OutboundWorker } from "./outbound/worker.ts";
import { outboundQueue } from "./storage/outbound/outbound-queue.ts";
import { createSimulatorStore } from "./storage/simulator-store.ts";
import { createLogger } from "./observability/logger.ts";
import { createMetrics, type Metrics, type MetricSources } from "./observability/metrics.ts";
import { opsRoutes, type ReadinessCheck } from "./http/ops.routes.ts";

/** Replaceable parts: tests pass fakes for time, ids and the outside world; nothing of ours. */
export interface AppOverrides {
  clock?: Clock;
  ids?: Ids;
  /** Replaces the simulator (e.g. createInstantTransport); the simulate endpoints still work. */
  transport?: (clock: Clock) => Transport;
  logger?: Logger;
  /** The outside world for outbound HTTP: a fake resolver, and where addresses lead (tests route to loopback). */
  network?: Network;
}

export interface OpenLinq {
  config: Config;
  deps: CoreDeps;
  storage: StorageHandle;
  http: FastifyInstance;
  logger: Logger;
  bootstrap: BootstrapResult;
  /** The in-process webhook delivery worker; undefined with OPENLINQ_WORKER=false (`serve --no-worker`). */
  worker: DeliveryWorker | undefined;
  /** A further worker on the same database, not started (several workers share the queue through claims). */
  newDeliveryWorker(): DeliveryWorker;
  /** Calls `listener` after every commit that wrote outbox rows; returns the unsubscribe function. */
  onOutboxNotify(listener: () => void): () => void;
  /** The simulated recipient network; undefined when a test replaced the transport. */
  simulator: Simulator | undefined;
  /** The in-process outbound worker: sends to the carrier, our signals, the simulator's schedule. */
  outbound: OutboundWorker;
  /** What GET /metrics shows. */
  metrics: Metrics;
  /** Base URL once listening (or the configured public URL). */
  baseUrl(): string;
  listen(): Promise<string>;
  /**
   * Stops accepting requests and stops the worker, then closes everything. With `graceMs`
   * (SIGTERM), in-flight requests and webhook attempts get that long to finish; without,
   * attempts in flight are abandoned at once (and retried later).
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/**
 * The composition root: the one place that picks adapters from config. `npm start`,
 * the CLI, the tests and the benchmarks all build the product through here.
 */
export async function buildApp(config: Config, overrides: AppOverrides = {}): Promise<OpenLinq> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  // Read first, so a bad seed file stops the start with every problem listed and nothing opened.
  const seed = readSeedFile(config.seedFile);
  ensurePrivateDir(config.dataDir);
  const storage = openStorage(config.storage);
  await storage.migrate();
  await joinNodes(storage, config.clock === "virtual" ? "exclusive" : "shared");
  const secrets = await openSecrets(config, storage, logger);
  const bus = openBus(config, storage, logger);

  // OPENLINQ_CLOCK=virtual: time moves only on POST /openlinq/v1/clock/advance.
  const clock =
    overrides.clock ??
    (config.clock === "virtual"
      ? createVirtualClock(new Date(), { onError: (error) => logger.error({ err: error }, "virtual clock timer failed") })
      : systemClock);
  const virtualClock = "advanceBy" in clock ? (clock as VirtualClock) : undefined;
  const randomSeed = config.randomSeed ?? freshRandomSeed();
  const random = createSeededRandom(randomSeed);
  const core = await buildCore(config, storage, bus, logger, {
    secrets,
    clock,
    random,
    overrides,
    // As for webhooks below: under a virtual clock only advances move work along.
    pollIntervalMs: virtualClock ? VIRTUAL_CLOCK_POLL_MS : config.outboundPollIntervalMs,
    // `serve --no-worker`: this node performs the sends its requests committed; the queue's
    // later work (the simulator's schedule, retries) is left to `openlinq worker`.
    background: config.worker,
  });
  const { deps, simulator, simulatorStore, onOutboxNotify } = core;
  const outboundWorker = core.outbound;
  const sandboxDeps: SimulatorDeps = { ...deps, simulator: simulatorStore };
  const bootstrapResult = await bootstrap(deps, { token: config.token, phoneNumbers: config.phoneNumbers });
  const seeded = config.seedFile ? await seedIfPristine(sandboxDeps, bootstrapResult.organization.id, seed) : undefined;
  if (seeded) logger.info({ seedFile: config.seedFile, ...seeded }, "seed file loaded");
  else if (config.seedFile) logger.info({ seedFile: config.seedFile }, "seed file not loaded: the organization has data already (POST /openlinq/v1/reset reloads it)");

  let baseUrl = config.publicUrl;
  const metrics = createMetrics(metricSources(storage, clock, () => delivery.repository));

  // A stream of its own, so webhook retries never shift the simulator's draws.
  const retryRandom = createSeededRandom((randomSeed + 1) >>> 0);
  const delivery = buildDelivery(config, storage, secrets, clock, logger, metrics, bus, {
    network: overrides.network,
    random: () => retryRandom.next(),
    activity: deps.activity,
    // Polling (wall-clock time) exists to find work queued by other processes; under a virtual
    // clock there are none, commits wake the worker and each advance runs what falls due, so a
    // poll between advances would only deliver at moments the test did not choose.
    ...(virtualClock ? { pollIntervalMs: VIRTUAL_CLOCK_POLL_MS } : {}),
  });
  // Other processes' workers learn of new rows through the channel (Postgres), or by polling.
  if (delivery.channel) onOutboxNotify(() => delivery.channel!.publish());
  const worker = config.worker ? delivery.createWorker() : undefined;
  if (worker) onOutboxNotify(worker.wake);
  // Before each step of virtual time: the simulator's queued work, then the webhooks now due,
  // so events reach receivers in the order their causes happened.
  if (virtualClock) {
    virtualClock.addSettleHook(async () => void (await outboundWorker.runDue()));
    if (worker) virtualClock.addSettleHook(async () => void (await worker.runDue()));
  }
  const sandboxClock: SandboxClock = {
    mode: virtualClock ? "virtual" : "system",
    now: () => clock.now(),
    pendingTimers: () => virtualClock?.pendingTimers() ?? 0,
    randomSeed,
    ...(virtualClock
      ? { advanceBy: (ms: number) => virtualClock.advanceBy(ms), advanceTo: (to: Date) => virtualClock.advanceTo(to) }
      : {}),
  };

  let closing = false;
  const readiness: ReadinessCheck[] = [
    () => (closing ? ["shutting down"] : []),
    () => storage.checkReady(),
    () => (worker && !worker.running() ? ["webhook worker not running"] : []),
    () => (outboundWorker.running() ? [] : ["outbound worker not running"]),
  ];
  const faults = createApiFaults({
    repository: apiFaultRepository(storage.db),
    store: deps.store,
    clock,
    activity: deps.activity,
    // One stream per fault: whether a request is hit depends only on the requests that fault matched.
    randomFor: (faultId) => createSeededRandom((randomSeed ^ Math.imul(faultId, 0x9e3779b1)) >>> 0),
  });

  const http = await createHttpServer({
    deps,
    faults,
    logger,
    auth: {
      rateLimit: { perSecond: config.rateLimit, burst: config.rateLimitBurst, store: rateLimiterFactory(storage) },
      authFailuresPerMinute: config.authFailureLimit,
      revocations: createTokenRevocations(bus),
    },
    maxAttachmentBytes: config.maxAttachmentBytes,
    baseUrl: () => baseUrl,
    // On Postgres with shared rate limits every request commits its count, so the snapshot
    // never repeats and no kept answer would ever be served: the token would only cost a query.
    readVersion: !config.readCache || (storage.dialect === "postgres" && config.rateLimit > 0) ? undefined : storage.readVersion,
    metrics,
    extensions: [
      async (app) => {
        await app.register(opsRoutes, { metrics, readiness });
      },
      inboxFace({ deps, baseUrl: () => baseUrl }),
      sandboxFace({
        deps: sandboxDeps,
        clock: sandboxClock,
        loadSeed: () => readSeedFile(config.seedFile),
      }),
      async (app) => {
        await app.register(eventRoutes, { prefix: "/openlinq/v1", deps, deliveries: delivery.repository });
        await app.register(faultRoutes, { prefix: "/openlinq/v1", faults });
        await app.register(tokenRoutes, { prefix: "/openlinq/v1", deps });
        await app.register(scenarioRoutes, { prefix: "/openlinq/v1", deps });
        await app.register(transferRoutes, {
          prefix: "/openlinq/v1",
          transfer: { transfer: sandboxTransferRepository(storage.db, storage.dialect, secrets), files: deps.files, clock },
          activity: deps.activity,
        });
        await app.register(listenerRoutes, {
          prefix: "/openlinq/v1",
          listeners: {
            listeners: listenerRepository(storage.db, storage.dialect, secrets),
            clock,
            ids: deps.ids,
            webhooks: deps.webhooks,
            eventTypes: { 2: WEBHOOK_EVENT_TYPES, 3: V3_WEBHOOK_EVENT_TYPES },
          },
          activity: deps.activity,
        });
      },
    ],
  });

  await outboundWorker.start();
  await worker?.start();

  return {
    config,
    deps,
    storage,
    http,
    logger,
    bootstrap: bootstrapResult,
    worker,
    simulator,
    outbound: outboundWorker,
    metrics,
    newDeliveryWorker: () => delivery.createWorker(),
    onOutboxNotify,
    baseUrl: () => baseUrl,
    async listen() {
      const address = await http.listen({ host: config.host, port: config.port });
      if (!config.publicUrlExplicit && config.port === 0) {
        const port = (http.server.address() as { port: number }).port;
        const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
        baseUrl = `http://${host}:${port}`;
        core.setBaseUrl(baseUrl);
      }
      return address;
    },
    async close({ graceMs = 0 } = {}) {
      if (closing) return;
      closing = true;
      // Both drain at once, so the whole shutdown stays within the grace. Events committed
      // by requests finishing meanwhile stay queued for other workers or the next start.
      await Promise.all([closeHttpWithin(http, graceMs, logger), worker?.close({ graceMs })]);
      // Outbound jobs not yet run stay queued; the claims this worker holds are handed back.
      await core.close();
      await delivery.close();
      await bus?.close();
      await storage.destroy();
    },
  };
}

interface CoreRuntime {
  deps: CoreDeps;
  /** The simulated recipient network; undefined when a test replaced the transport. */
  simulator: Simulator | undefined;
  simulatorStore: SimulatorStore;
  /** Sends to the carrier, our signals, the simulator's schedule; started by the caller. */
  outbound: OutboundWorker;
  /** Calls `listener` after every commit that wrote outbox rows; returns the unsubscribe function. */
  onOutboxNotify(listener: () => void): () => void;
  /** Where attachment links point, once the API listens on a port chosen at start. */
  setBaseUrl(url: string): void;
  /** Stops the outbound worker (its claims handed back) and closes what core opened. */
  close(): Promise<void>;
}

/**
 * Core and the outbound worker over one database: what `serve` and `openlinq worker` both
 * run. A worker process needs all of core, since the jobs it runs (a send, a simulated
 * delivery, read or reply) go through core's services, events and webhook fan-out.
 */
async function buildCore(
  config: Config,
  storage: StorageHandle,
  bus: NotificationBus | undefined,
  logger: Logger,
  options: {
    secrets: SecretBox;
    clock: Clock;
    random: Random;
    overrides: Pick<AppOverrides, "ids" | "transport" | "network">;
    pollIntervalMs: number;
    background: boolean;
  },
): Promise<CoreRuntime> {
  const { clock, random, overrides } = options;
  // The simulator's own tables beside core's; the sandbox endpoints use them even when a test replaced the transport.
  const simulatorStore = createSimulatorStore(storage.db, {
    secrets: options.secrets,
    onDeliveriesCommitted: () => outbox.notify(),
    onJobsCommitted: (at) => outboundWorker.jobsAdded(at),
  });
  const simulator = overrides.transport ? undefined : createSimulator({ clock, random, store: simulatorStore });
  const ids = overrides.ids ?? cryptoIds;
  const dispatcher = createDispatcher({ allowPrivate: config.allowPrivateUrls, network: overrides.network });
  let baseUrl = config.publicUrl;
  const links: Links = {
    attachmentUrl: (id, filename) => `${baseUrl}/openlinq/v1/attachments/${id}/${encodeFilename(filename)}`,
  };
  const outboxListeners = new Set<() => void>();
  const outbox: OutboxSignal = { notify: () => outboxListeners.forEach((listener) => listener()) };

  // Outbound work: core's sends and signals, and the simulated carrier's schedule.
  const handlers = new Map<string, JobHandler>([
    [SEND_MESSAGE_JOB, (job, loaded) => performSend(deps, job.orgId, Number(job.payload.messageId), loaded as LoadedSend | undefined)],
    [CHAT_SIGNAL_JOB, (job) => performChatSignal(deps, job.orgId, Number(job.payload.chatId), job.payload.signal as ChatSignal)],
    ...(simulator?.handlers ?? []),
  ]);
  const outboundWorker = createOutboundWorker({
    queue: outboundQueue(storage.db, storage.dialect),
    clock,
    handlers,
    claimTtlMs: config.outboundClaimTtlMs,
    pollIntervalMs: options.pollIntervalMs,
    background: options.background,
    logger: logger.child({ component: "outbound" }),
    // A chat or message can vanish before a planned step (deleted, or a sandbox reset): expected.
    isSettled: (error) => error instanceof DomainError,
  });

  // On Postgres the inbox's live stream shows what every node did, not only this one.
  const sharedActivity = bus
    ? shareActivityFeed(createActivityFeed(), bus, {
        onError: (error) => logger.warn({ err: error }, "activity notification failed; open inbox pages catch up when they reconnect"),
      })
    : undefined;
  await sharedActivity?.listen();
  const activity = sharedActivity ?? createActivityFeed();
  const store = createStore(storage.db, { secrets: options.secrets, onDeliveriesCommitted: () => outbox.notify() });
  const files = createDiskFileStore(join(config.dataDir, "attachments"));
  // Files a crashed process or a failed transaction left behind; an hour old at least, so a
  // request in flight in another process sharing the data dir keeps its files.
  const swept = await files.sweepOrphans({
    olderThanMs: ORPHAN_FILE_AGE_MS,
    knownKeys: (keys) => store.read.attachments.existingStorageKeys(keys),
  });
  if (swept.staged + swept.orphans > 0) logger.info(swept, "removed attachment files left behind by an earlier run");
  const deps: CoreDeps = {
    store,
    outbound: { runNow: (ids, loaded) => outboundWorker.runNow(ids, loaded) },
    clock,
    ids,
    transport: overrides.transport ? overrides.transport(clock) : simulator!.transport,
    files,
    outbox,
    activity,
    links,
    fetchAttachment: createAttachmentFetcher({
      dispatcher,
      files,
      concurrency: config.attachmentDownloadConcurrency,
      maxBytes: config.maxAttachmentBytes,
      allowPrivate: config.allowPrivateUrls,
    }),
    checkWebhookUrl: createUrlPolicy({ allowPrivate: config.allowPrivateUrls, network: overrides.network }),
    limits: { maxAttachmentBytes: config.maxAttachmentBytes },
    webhooks: createWebhookRenderer(),
  };
  simulator?.start(deps);

  return {
    deps,
    simulator,
    simulatorStore,
    outbound: outboundWorker,
    onOutboxNotify(listener) {
      outboxListeners.add(listener);
      return () => void outboxListeners.delete(listener);
    },
    setBaseUrl(url) {
      baseUrl = url;
    },
    async close() {
      // Outbound jobs not yet run stay queued; the claims this worker holds are handed back.
      await outboundWorker.close();
      await sharedActivity?.close();
      await dispatcher.close();
    },
  };
}

/** Files without a row are removed at start once this old (longer than any request takes). */
const ORPHAN_FILE_AGE_MS = 3_600_000;

/**
 * The virtual clock keeps time, timers and the simulator's plans in one process's memory,
 * so a database it runs on has no other node (serve or worker): each start takes its place
 * and the wrong combination is refused before anything else starts.
 */
async function joinNodes(storage: StorageHandle, mode: "shared" | "exclusive"): Promise<void> {
  if (await storage.joinNodes(mode)) return;
  await storage.destroy();
  throw new ConfigError([
    mode === "exclusive"
      ? "OPENLINQ_CLOCK=virtual runs on a single node, and another openlinq process (serve or worker) uses this database; stop it, or use OPENLINQ_CLOCK=system"
      : "another openlinq process uses this database with OPENLINQ_CLOCK=virtual, which runs on a single node; stop it, or restart it with OPENLINQ_CLOCK=system",
  ]);
}

/**
 * Fastify's close stops accepting at once and waits for requests in flight; past `graceMs`
 * the connections still open are cut so shutdown stays bounded.
 */
async function closeHttpWithin(http: FastifyInstance, graceMs: number, logger: Logger): Promise<void> {
  const cut = setTimeout(() => {
    logger.warn("requests still running at the shutdown deadline; closing their connections");
    http.server.closeAllConnections();
  }, graceMs);
  try {
    await http.close();
  } finally {
    clearTimeout(cut);
  }
}

/**
 * The key of secrets at rest, checked against the one the database was sealed with; rows
 * from earlier versions (plaintext webhook secrets, SHA-256 tokens) are converted here.
 * Another key is refused before anything is written: on one Postgres, every node needs the
 * same OPENLINQ_SECRET_KEY unless they share a data directory (and its secret.key).
 */
export async function openSecrets(config: Config, storage: StorageHandle, logger: Logger): Promise<SecretBox> {
  let key;
  try {
    key = loadSecretKey(config.dataDir, config.secretKey);
  } catch (error) {
    await storage.destroy();
    throw new ConfigError([(error as Error).message]);
  }
  const secrets = createSecretBox(key.key);
  try {
    const converted = await secureStoredSecrets(storage.db, secrets, new Date());
    if (converted.sealedSecrets + converted.rekeyedTokens > 0) {
      logger.info(converted, "sealed plaintext webhook secrets and rekeyed token hashes from an earlier version");
    }
  } catch (error) {
    await storage.destroy();
    if (!(error instanceof SecretKeyMismatchError)) throw error;
    throw new ConfigError([
      `this database's secrets were sealed with another key (fingerprint ${error.storedFingerprint}) than this process's, ` +
        `from ${key.origin} (fingerprint ${error.ourFingerprint}). ` +
        (config.storage.kind === "postgres"
          ? "Every node on one database needs the same key: set OPENLINQ_SECRET_KEY on each node to the first node's key (its OPENLINQ_SECRET_KEY, or the contents of its DATA_DIR/secret.key)"
          : `Restore the key file (${SECRET_KEY_FILE} in the data directory) from a backup, or set OPENLINQ_SECRET_KEY to the key used before`),
    ]);
  }
  return secrets;
}

/** Cross-node notifications (Postgres LISTEN/NOTIFY); undefined on SQLite. */
function openBus(config: Config, storage: StorageHandle, logger: Logger): NotificationBus | undefined {
  return createNotificationBus(storage, {
    schema: config.storage.kind === "postgres" ? config.storage.schema : undefined,
    onError: (error) => logger.warn({ err: error }, "notification connection failed; reconnecting"),
  });
}

/** Where the scrape-time gauges read from: the outbox and outbound tables, and the connection pool. */
function metricSources(storage: StorageHandle, clock: Clock, deliveries: () => DeliveryRepository): MetricSources {
  const pool = storage.poolStats() ? () => storage.poolStats()! : undefined;
  const outbound = outboundQueue(storage.db, storage.dialect);
  return {
    now: () => clock.now(),
    outbox: (now) => deliveries().outboxStats(now),
    outbound: (now) => outbound.stats(now),
    ...(pool ? { pool } : {}),
  };
}

/** Webhook polling period under a virtual clock: rare enough never to interleave with a test's advances. */
const VIRTUAL_CLOCK_POLL_MS = 3_600_000;

interface Delivery {
  repository: DeliveryRepository;
  channel: OutboxChannel | undefined;
  createWorker(): DeliveryWorker;
  close(): Promise<void>;
}

/** Webhook delivery adapters: the queue in storage, the HTTP sender, cross-process wake-ups. */
function buildDelivery(
  config: Config,
  storage: StorageHandle,
  secrets: SecretBox,
  clock: Clock,
  logger: Logger,
  metrics: Metrics,
  bus: NotificationBus | undefined,
  tuning: { random?: () => number; pollIntervalMs?: number; activity?: ActivityFeed; network?: Network | undefined } = {},
): Delivery {
  const repository = deliveryRepository(storage.db, storage.dialect, secrets);
  const dispatcher = createDispatcher({
    allowPrivate: config.allowPrivateUrls,
    connections: config.webhookConcurrency,
    network: tuning.network,
  });
  const log = logger.child({ component: "webhooks" });
  const channel = bus
    ? createOutboxChannel(bus, { onError: (error) => log.warn({ err: error }, "outbox notification failed; polling covers it") })
    : undefined;
  const send = createHttpSender({
    dispatcher,
    timeoutMs: config.webhookTimeoutMs,
    allowPrivate: config.allowPrivateUrls,
  });
  return {
    repository,
    channel,
    createWorker: () =>
      createDeliveryWorker({
        repository,
        clock,
        send,
        policy: { schedule: config.webhookRetrySchedule, jitter: config.webhookRetryJitter, random: tuning.random ?? Math.random },
        v3Schedule: config.v3WebhookRetrySchedule,
        claimTtlMs: config.webhookClaimTtlMs,
        attemptTimeoutMs: config.webhookTimeoutMs,
        pollIntervalMs: tuning.pollIntervalMs ?? config.webhookPollIntervalMs,
        concurrency: config.webhookConcurrency,
        retentionDays: config.eventRetentionDays,
        logger: log,
        wakeups: channel?.wakeups(),
        metrics,
        onRecorded: tuning.activity
          ? (results) => {
              for (const { delivery } of results) {
                tuning.activity!.publish({
                  orgId: delivery.orgId,
                  kind: "delivery",
                  eventId: delivery.eventId,
                  eventType: delivery.eventType,
                });
              }
            }
          : undefined,
      }),
    async close() {
      await channel?.close();
      await dispatcher.close();
    },
  };
}

export interface StandaloneWorker {
  config: Config;
  worker: DeliveryWorker;
  /** The queued outbound work: sends to the carrier, our signals, the simulator's schedule. */
  outbound: OutboundWorker;
  storage: StorageHandle;
  metrics: Metrics;
  /** Where /healthz, /readyz and /metrics answer (OPENLINQ_WORKER_PORT); undefined when not served. */
  opsUrl: string | undefined;
  /** Hands back claims; with `graceMs`, attempts in flight get that long to finish first. */
  close(options?: { graceMs?: number }): Promise<void>;
}

/**
 * `openlinq worker`: the background work without the API, on the database the API uses:
 * webhook delivery, and the outbound queue (sends to the carrier, the simulated network's
 * deliveries, reads, reactions and replies), which runs through core like a request would.
 * With OPENLINQ_WORKER_PORT it serves the operations endpoints (health, readiness, metrics).
 */
export async function buildWorker(
  config: Config,
  overrides: Pick<AppOverrides, "clock" | "logger" | "transport" | "network"> = {},
): Promise<StandaloneWorker> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  ensurePrivateDir(config.dataDir);
  const storage = openStorage(config.storage);
  await storage.migrate();
  await joinNodes(storage, "shared");
  const secrets = await openSecrets(config, storage, logger);
  const bus = openBus(config, storage, logger);
  const clock = overrides.clock ?? systemClock;
  const metrics = createMetrics(metricSources(storage, clock, () => delivery.repository));
  const core = await buildCore(config, storage, bus, logger, {
    secrets,
    clock,
    random: createSeededRandom(config.randomSeed ?? freshRandomSeed()),
    overrides,
    pollIntervalMs: config.outboundPollIntervalMs,
    background: true,
  });
  const delivery = buildDelivery(config, storage, secrets, clock, logger, metrics, bus, { activity: core.deps.activity, network: overrides.network });
  const worker = delivery.createWorker();
  // Events the outbound jobs emit here go out from here at once, and wake the other workers.
  if (delivery.channel) core.onOutboxNotify(() => delivery.channel!.publish());
  core.onOutboxNotify(worker.wake);
  await core.outbound.start();
  await worker.start();
  let closing = false;
  let opsUrl: string | undefined;
  const ops = config.workerPort === undefined ? undefined : Fastify({ loggerInstance: logger });
  if (ops) {
    const readiness: ReadinessCheck[] = [
      () => (closing ? ["shutting down"] : []),
      () => storage.checkReady(),
      () => (worker.running() ? [] : ["webhook worker not running"]),
      () => (core.outbound.running() ? [] : ["outbound worker not running"]),
    ];
    await ops.register(opsRoutes, { metrics, readiness });
    await ops.listen({ host: config.host, port: config.workerPort });
    const { port } = ops.server.address() as { port: number };
    opsUrl = `http://${config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host}:${port}`;
  }
  return {
    config,
    worker,
    outbound: core.outbound,
    storage,
    metrics,
    opsUrl,
    async close({ graceMs = 0 } = {}) {
      if (closing) return;
      closing = true;
      await Promise.all([worker.close({ graceMs }), core.close()]);
      await ops?.close();
      await delivery.close();
      await bus?.close();
      await storage.destroy();
    },
  };
}
