import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import pino, { type Logger } from "pino";
import type { Config } from "./config/config.ts";
import { bootstrap, type BootstrapResult } from "./core/accounts/accounts.service.ts";
import type { CoreDeps, Links } from "./core/deps.ts";
import type { Clock, Ids, OutboxSignal, Transport } from "./core/ports.ts";
import { createActivityFeed, cryptoIds, systemClock } from "./core/system.ts";
import { createHttpServer } from "./http/server.ts";
import { createAttachmentFetcher } from "./net/attachment-fetcher.ts";
import { createDispatcher } from "./net/safe-dispatcher.ts";
import { openStorage, type StorageHandle } from "./storage/database.ts";
import { createDiskFileStore } from "./storage/file-store.ts";
import { createStore } from "./storage/store.ts";
import { createInstantTransport } from "./transport/instant.transport.ts";

/** Replaceable parts: tests pass fakes for time, ids and the outside world; nothing of ours. */
export interface AppOverrides {
  clock?: Clock;
  ids?: Ids;
  transport?: (clock: Clock) => Transport;
  logger?: Logger;
}

export interface OpenLinq {
  config: Config;
  deps: CoreDeps;
  storage: StorageHandle;
  http: FastifyInstance;
  logger: Logger;
  bootstrap: BootstrapResult;
  /** Base URL once listening (or the configured public URL). */
  baseUrl(): string;
  listen(): Promise<string>;
  close(): Promise<void>;
}

/**
 * The composition root: the one place that picks adapters from config. `npm start`,
 * the CLI, the tests and the benchmarks all build the product through here.
 */
export async function buildApp(config: Config, overrides: AppOverrides = {}): Promise<OpenLinq> {
  const logger = overrides.logger ?? pino({ level: config.logLevel });
  const storage = openStorage(config.storage);
  await storage.migrate();

  const clock = overrides.clock ?? systemClock;
  const ids = overrides.ids ?? cryptoIds;
  const dispatcher = createDispatcher({ allowPrivate: config.allowPrivateUrls });
  let baseUrl = config.publicUrl;
  const links: Links = {
    attachmentUrl: (id, filename) => `${baseUrl}/openlinq/v1/attachments/${id}/${encodeURIComponent(filename)}`,
  };
  const outboxListeners = new Set<() => void>();
  const outbox: OutboxSignal = { notify: () => outboxListeners.forEach((listener) => listener()) };

  const deps: CoreDeps = {
    store: createStore(storage.db),
    clock,
    ids,
    transport: (overrides.transport ?? createInstantTransport)(clock),
    files: createDiskFileStore(join(config.dataDir, "attachments")),
    outbox,
    activity: createActivityFeed(),
    links,
    fetchAttachment: createAttachmentFetcher({
      dispatcher,
      maxBytes: config.maxAttachmentBytes,
      allowPrivate: config.allowPrivateUrls,
    }),
    limits: { maxAttachmentBytes: config.maxAttachmentBytes },
  };

  const bootstrapResult = await bootstrap(deps, { token: config.token, phoneNumbers: config.phoneNumbers });

  const http = await createHttpServer({
    deps,
    logger,
    rateLimit: { perSecond: config.rateLimit, burst: config.rateLimitBurst },
    maxAttachmentBytes: config.maxAttachmentBytes,
  });

  let closed = false;
  return {
    config,
    deps,
    storage,
    http,
    logger,
    bootstrap: bootstrapResult,
    baseUrl: () => baseUrl,
    async listen() {
      const address = await http.listen({ host: config.host, port: config.port });
      if (!config.publicUrlExplicit && config.port === 0) {
        const port = (http.server.address() as { port: number }).port;
        const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
        baseUrl = `http://${host}:${port}`;
      }
      return address;
    },
    async close() {
      if (closed) return;
      closed = true;
      await http.close();
      await dispatcher.close();
      await storage.destroy();
    },
  };
}
