import { randomUUID } from "node:crypto";
import type { Activity, ActivityFeed } from "../core/ports.ts";
import type { NotificationBus } from "./notification-bus.ts";
import { pace } from "./notification-pacing.ts";

/**
 * The activity feed shared by every node on one Postgres database: what one node publishes
 * reaches its own subscribers at once and the other nodes' subscribers (open inbox pages)
 * through the notification bus. Best effort like the feed itself: an inbox page reloads
 * its views whenever its stream reconnects, which covers notifications lost meanwhile.
 *
 * Activities travel in batches (split below Postgres's 8000-byte payload limit), paced
 * (notification-pacing.ts): a busy node sends at most one notification per NOTIFY_GAP_MS,
 * not one per change, and other nodes see an activity at most that much later.
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

  const sender = pace(flush);

  function receive(payload: string): void {
    const envelope = JSON.parse(payload) as Envelope;
    if (envelope.node === node) return;
    for (const activity of envelope.activities) local.publish(activity);
  }

  return {
    publish(activity) {
      local.publish(activity);
      queued.push(activity);
      sender.request();
    },
    subscribe: (orgId, listener) => local.subscribe(orgId, listener),
    async listen() {
      stopListening ??= await bus.subscribe(TOPIC, receive);
    },
    async close() {
      await sender.flush();
      await stopListening?.();
      stopListening = undefined;
    },
  };
}
