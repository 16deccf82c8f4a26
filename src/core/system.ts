import { randomBytes, randomUUID } from "node:crypto";
import type { Clock, Ids } from "./ports.ts";

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
