import { randomBytes, randomUUID } from "node:crypto";
import type { Clock, Ids } from "./ports.ts";

export const systemClock: Clock = { now: () => new Date() };

export const cryptoIds: Ids = {
  uuid: () => randomUUID(),
  secret: (bytes = 24) => randomBytes(bytes).toString("base64url"),
};
