import { randomUUID } from "node:crypto";
import type { Activity, ActivityFeed } from "../core/ports.ts";
import type { NotificationBus } from "./notification-bus.ts";

/**
 * The activity feed shared by every node on one Postgres database: what one node publishes
 * reaches its own subscribers at once and the other nodes' subscribers (open inbox pages)
 * through the notification bus. Best effort like the feed itself: an inbox page reloads
 * its views whenever its stream reconnects, which covers notifications lost meanwhile.
 *
 * Activities published in one turn of the event loop travel in one notification (split
 * below Postgres's 8000-byte payload limit), so a busy node adds one small query per turn,
 * not one per change.
 */
export interface SharedActivityFeed extends ActivityFeed {
  /** Starts passing other nodes' activity to this node's subscribers. */
  listen(): Promise<void>;
  /** Sends what is queued and stops. */
  close(): Promise<void>;
}

const TOPIC = "activity";
/** Payload bytes per notification at most (Postgres refuses 8000 and more). */
const MAX_PAYLOAD = 7_000;

interface Envelope {
  /** The publishing node, which already told its own subscribers. */
  node: string;
  activities: Activity[];
}

export function shareActivityFeed(
  local: ActivityFeed,
  bus: NotificationBus,
  options: { onError: (error: unknown) => void },
): SharedActivityFeed {
  const node = randomUUID();
  let queued: Activity[] = [];
  let flushing: Promise<void> | undefined;
  let stopListening: (() => Promise<void>) | undefined;

  async function flush(): Promise<void> {
    const batch = queued;
    queued = [];
    let chunk: Activity[] = [];
    let size = 0;
    const send = async () => {
      if (chunk.length === 0) return;
      const envelope: Envelope = { node, activities: chunk };
      chunk = [];
      size = 0;
      await bus.publish(TOPIC, JSON.stringify(envelope));
    };
    try {
      for (const activity of batch) {
        const bytes = Buffer.byteLength(JSON.stringify(activity)) + 1;
        if (bytes > MAX_PAYLOAD - 100) continue; // a detail too large to share; local subscribers had it
        if (size + bytes > MAX_PAYLOAD - 100) await send();
        chunk.push(activity);
        size += bytes;
      }
      await send();
    } catch (error) {
      options.onError(error);
    }
  }

  function schedule(): void {
    if (flushing) return;
    flushing = new Promise<void>((resolve) => setImmediate(resolve))
      .then(flush)
      .finally(() => {
        flushing = undefined;
        if (queued.length > 0) schedule();
      });
  }

  function receive(payload: string): void {
    const envelope = JSON.parse(payload) as Envelope;
    if (envelope.node === node) return;
    for (const activity of envelope.activities) local.publish(activity);
  }

  return {
    publish(activity) {
      local.publish(activity);
      queued.push(activity);
      schedule();
    },
    subscribe: (orgId, listener) => local.subscribe(orgId, listener),
    async listen() {
      stopListening ??= await bus.subscribe(TOPIC, receive);
    },
    async close() {
      while (flushing) await flushing;
      await stopListening?.();
      stopListening = undefined;
    },
  };
}
