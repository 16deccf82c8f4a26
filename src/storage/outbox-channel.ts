import type { OutboxWakeups } from "../delivery/ports.ts";
import type { NotificationBus } from "./notification-bus.ts";

/**
 * Wakes delivery workers in other processes when outbox rows commit, over the notification
 * bus (Postgres LISTEN/NOTIFY); on SQLite separate workers poll. A notification is a hint,
 * never the source of truth: workers still claim from the table, and a lost one costs at
 * most a poll.
 */
export interface OutboxChannel {
  /** Sends a notification; calls made while one is on its way are folded into one more. */
  publish(): void;
  /** Wake-ups for one worker: the bus's one LISTEN connection serves every worker of the process. */
  wakeups(): OutboxWakeups;
  /** Stops publishing, waiting for a notification on its way. */
  close(): Promise<void>;
}

const TOPIC = "outbox";

export function createOutboxChannel(bus: NotificationBus, options: { onError: (error: unknown) => void }): OutboxChannel {
  let sending: Promise<void> | undefined;
  let again = false;
  let closed = false;

  async function send(): Promise<void> {
    try {
      do {
        again = false;
        await bus.publish(TOPIC, "");
      } while (again && !closed);
    } catch (error) {
      if (!closed) options.onError(error);
    } finally {
      sending = undefined;
    }
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
      let registered: { onWake: () => void; stop: Promise<() => Promise<void>> } | undefined;
      return {
        async listen(onWake) {
          if (registered?.onWake === onWake) return bus.reconnect();
          const previous = registered;
          registered = { onWake, stop: bus.subscribe(TOPIC, () => onWake()) };
          if (previous) await (await previous.stop)();
          await registered.stop;
        },
        async close() {
          const current = registered;
          registered = undefined;
          if (current) await (await current.stop.catch(() => async () => undefined))();
        },
      };
    },
    async close() {
      closed = true;
      await sending;
    },
  };
}
