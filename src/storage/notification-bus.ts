import type pg from "pg";
import { sql } from "kysely";
import type { StorageHandle } from "./database.ts";

/**
 * Postgres LISTEN/NOTIFY between the processes (nodes) on one database: one shared LISTEN
 * connection per process, any number of topics. What travels here are hints (wake a
 * worker, refresh an inbox, drop a cached token), never the source of truth: the database
 * is. A notification sent while a listener's connection is down is lost, so each user
 * says what covers that (polling, a page reload, a cache TTL).
 *
 * Postgres only; on SQLite createNotificationBus returns undefined.
 */
export interface NotificationBus {
  /** Sends `payload` (at most ~7 KB) to every process listening on `topic`, this one included. */
  publish(topic: string, payload: string): Promise<void>;
  /** Listens on `topic` until the returned function is called. */
  subscribe(topic: string, listener: (payload: string) => void): Promise<() => Promise<void>>;
  /** Listens again if the connection was lost (cheap when it was not). */
  reconnect(): Promise<void>;
  close(): Promise<void>;
}

/** After a lost LISTEN connection, the next try comes this much later (then again, until it works). */
const RECONNECT_MS = 1_000;

export function createNotificationBus(
  storage: StorageHandle,
  options: { schema?: string | undefined; onError: (error: unknown) => void },
): NotificationBus | undefined {
  const pool = storage.pool;
  if (storage.dialect !== "postgres" || !pool) return undefined;
  // Schemas share one database's notification namespace; channels carry ours in their name.
  const channelOf = (topic: string) => (options.schema ? `openlinq_${topic}_${options.schema}` : `openlinq_${topic}`);

  const listeners = new Map<string, Set<(payload: string) => void>>();
  let client: pg.PoolClient | undefined;
  let connecting: Promise<void> | undefined;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;

  function dispatch(message: pg.Notification): void {
    for (const [topic, set] of listeners) {
      if (channelOf(topic) !== message.channel) continue;
      for (const listener of set) {
        try {
          listener(message.payload ?? "");
        } catch (error) {
          options.onError(error);
        }
      }
    }
  }

  async function connect(): Promise<void> {
    const connection = await pool!.connect();
    connection.on("notification", dispatch);
    connection.on("error", (error) => {
      options.onError(error);
      if (client === connection) client = undefined;
      connection.removeAllListeners("notification");
      connection.release(error);
      scheduleReconnect();
    });
    try {
      for (const topic of listeners.keys()) await connection.query(`LISTEN ${channelOf(topic)}`);
    } catch (error) {
      connection.release(true);
      throw error;
    }
    client = connection;
  }

  function scheduleReconnect(): void {
    if (closed || retry || listeners.size === 0) return;
    retry = setTimeout(() => {
      retry = undefined;
      ensureListening().catch((error) => {
        options.onError(error);
        scheduleReconnect();
      });
    }, RECONNECT_MS);
    retry.unref();
  }

  async function ensureListening(): Promise<void> {
    if (closed || client || listeners.size === 0) return;
    connecting ??= connect().finally(() => {
      connecting = undefined;
    });
    await connecting;
  }

  async function disconnect(): Promise<void> {
    await connecting?.catch(() => undefined);
    const connection = client;
    client = undefined;
    if (!connection) return;
    connection.removeAllListeners("notification");
    await connection.query("UNLISTEN *").catch(() => undefined);
    connection.release();
  }

  return {
    async publish(topic, payload) {
      if (closed) return;
      await sql`select pg_notify(${channelOf(topic)}, ${payload})`.execute(storage.db);
    },
    async subscribe(topic, listener) {
      let set = listeners.get(topic);
      const fresh = !set;
      if (!set) listeners.set(topic, (set = new Set()));
      set.add(listener);
      await ensureListening();
      // A connection opened before this topic was added does not listen to it yet (LISTEN twice is harmless).
      if (fresh) await client?.query(`LISTEN ${channelOf(topic)}`);
      return async () => {
        set.delete(listener);
        if (set.size > 0) return;
        listeners.delete(topic);
        if (listeners.size === 0) await disconnect();
        else await client?.query(`UNLISTEN ${channelOf(topic)}`).catch(() => undefined);
      };
    },
    async reconnect() {
      await ensureListening();
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      listeners.clear();
      await disconnect();
    },
  };
}
