import type { OutboxWakeups } from "../delivery/ports.ts";
import type { NotificationBus } from "./notification-bus.ts";
import { pace } from "./notification-pacing.ts";

/**
 * Wakes delivery workers in other processes when outbox rows commit, over the notification
 * bus (Postgres LISTEN/NOTIFY); on SQLite separate workers poll. A notification is a hint,
 * never the source of truth: workers still claim from the table, and a lost one costs at
 * most a poll. Paced (notification-pacing.ts): other processes' workers wake at most
 * NOTIFY_GAP_MS after a commit; this process's own worker is woken in-process at once.
 */
export interface OutboxChannel {
  /** Sends a notification; calls made until the next may go are folded into one. */
  publish(): void;
  /** Wake-ups for one worker: the bus's one LISTEN connection serves every worker of the process. */
  wakeups(): OutboxWakeups;
  /** Stops publishing, waiting for a notification on its way. */
  close(): Promise<void>;
}

const TOPIC = "outbox";

export function createOutboxChannel(bus: NotificationBus, options: { onError: (error: unknown) => void }): OutboxChannel {
  let closed = false;
  const sender = pace(async () => {
    if (closed) return;
    try {
      await bus.publish(TOPIC, "");
    } catch (error) {
      if (!closed) options.onError(error);
    }
  });

  return {
    publish() {
      if (!closed) sender.request();
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
      await sender.flush();
    },
  };
}
