import { randomBytes, randomUUID } from "node:crypto";
import type { Activity, ActivityFeed, Clock, Ids } from "./ports.ts";

export const systemClock: Clock = {
  now: () => new Date(),
  setTimer(delayMs, fn) {
    // Timers never keep the process alive: shutdown is explicit.
    const timer = setTimeout(fn, Math.max(0, delayMs));
    timer.unref();
    return () => clearTimeout(timer);
  },
};

export const cryptoIds: Ids = {
  uuid: () => randomUUID(),
  secret: (bytes = 24) => randomBytes(bytes).toString("base64url"),
};

export function createActivityFeed(): ActivityFeed {
  const listeners = new Map<number, Set<(activity: Activity) => void>>();
  return {
    publish(activity) {
      for (const listener of listeners.get(activity.orgId) ?? []) {
        try {
          listener(activity);
        } catch {
          // A broken listener (a closed inbox page) must not break the change that published.
        }
      }
    },
    subscribe(orgId, listener) {
      let set = listeners.get(orgId);
      if (!set) listeners.set(orgId, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
  };
}
