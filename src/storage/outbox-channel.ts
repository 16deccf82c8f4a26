import type pg from "pg";
import { sql } from "kysely";
import type { OutboxWakeups } from "../delivery/ports.ts";
import type { StorageHandle } from "./database.ts";

/**
 * Wakes delivery workers in other processes when outbox rows commit. Postgres only
 * (LISTEN/NOTIFY); on SQLite separate workers poll. A notification is a hint, never the
 * source of truth: workers still claim from the table, and a lost one costs at most a poll.
 */
export interface OutboxChannel {
  /** Sends a notification; calls made while one is on its way are folded into one more. */
  publish(): void;
  /** Wake-ups for one worker: one shared LISTEN connection serves every worker of the process. */
  wakeups(): OutboxWakeups;
  /** Stops listening and publishing, waiting for a notification on its way. */
  close(): Promise<void>;
}

export function createOutboxChannel(
  storage: StorageHandle,
  options: { schema?: string | undefined; onError: (error: unknown) => void },
): OutboxChannel | undefined {
  const pool = storage.pool;
  if (storage.dialect !== "postgres" || !pool) return undefined;
  // Schemas share one database's notification namespace; name the channel after ours.
  const channel = options.schema ? `openlinq_outbox_${options.schema}` : "openlinq_outbox";

  let sending: Promise<void> | undefined;
  let again = false;
  let closed = false;
  const listeners = new Set<() => void>();
  let client: pg.PoolClient | undefined;
  let connecting: Promise<void> | undefined;

  async function send(): Promise<void> {
    try {
      do {
        again = false;
        await sql`select pg_notify(${channel}, '')`.execute(storage.db);
      } while (again && !closed);
    } catch (error) {
      if (!closed) options.onError(error);
    } finally {
      sending = undefined;
    }
  }

  async function connect(): Promise<void> {
    const connection = await pool!.connect();
    connection.on("notification", () => listeners.forEach((listener) => listener()));
    connection.on("error", (error) => {
      // The next listen() (workers call it on every poll) connects again.
      options.onError(error);
      if (client === connection) client = undefined;
      connection.removeAllListeners("notification");
      connection.release(error);
    });
    try {
      await connection.query(`LISTEN ${channel}`);
    } catch (error) {
      connection.release(true);
      throw error;
    }
    client = connection;
  }

  async function disconnect(): Promise<void> {
    await connecting?.catch(() => undefined);
    const connection = client;
    client = undefined;
    if (!connection) return;
    connection.removeAllListeners("notification");
    await connection.query(`UNLISTEN ${channel}`).catch(() => undefined);
    connection.release();
  }

  async function ensureListening(): Promise<void> {
    if (closed || client || listeners.size === 0) return;
    connecting ??= connect().finally(() => {
      connecting = undefined;
    });
    await connecting;
  }

  return {
    publish() {
      if (closed) return;
      if (sending) {
        again = true;
        return;
      }
      sending = send();
    },
    wakeups() {
      let registered: (() => void) | undefined;
      return {
        async listen(onWake) {
          if (registered && registered !== onWake) listeners.delete(registered);
          registered = onWake;
          listeners.add(onWake);
          await ensureListening();
        },
        async close() {
          if (registered) listeners.delete(registered);
          registered = undefined;
          if (listeners.size === 0) await disconnect();
        },
      };
    },
    async close() {
      closed = true;
      listeners.clear();
      await disconnect();
      await sending;
    },
  };
}
