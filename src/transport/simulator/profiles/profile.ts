import type { ReactionType, Service } from "../../../core/model.ts";

/**
 * A simulated device: how the person behind an external handle (phone or email) behaves
 * when we write to them. Only the simulator reads, validates, keeps and shows them; core
 * never sees a profile.
 */

export interface ScriptedReply {
  text: string;
  attachmentUrls: string[];
  /** After delivery of the message that triggers it. */
  delayMs: number;
}

export type AutoReply =
  | { type: "none" }
  /** Sends our text back. */
  | { type: "echo"; delayMs: number }
  /** The n-th message we send gets the n-th reply; after the last one, silence (or from the top with `loop`). */
  | { type: "script"; replies: ScriptedReply[]; loop: boolean };

export interface AutoReaction {
  type: ReactionType;
  /** After delivery of each of our messages. */
  delayMs: number;
}

export interface HandleProfileSettings {
  /** Best service the device speaks: iMessage > RCS > SMS. Emails speak iMessage only. */
  service: Service;
  /** False: every message to the handle fails (`service_unavailable`). */
  reachable: boolean;
  /** Time from sending until delivered (or failed). */
  latencyMs: number;
  /** Up to this much extra time, drawn from the seeded random source, on every delay. */
  jitterMs: number;
  /** Time from delivery until the recipient reads; null: never reads (read receipts off). */
  readAfterMs: number | null;
  autoReply: AutoReply;
  autoReaction: AutoReaction | null;
}

/** What GET /openlinq/v1/handles/{handle} shows: the settings in force and where they come from. */
export interface HandleProfile extends HandleProfileSettings {
  handle: string;
  /** True when the org stored settings for the handle (PUT or the seed file). */
  stored: boolean;
  /** Name of the built-in behaviour when the handle is a magic number. */
  magic: string | null;
  /** Scripted replies already used. */
  scriptPosition: number;
  updatedAt: Date | null;
}

/** A stored profile row. */
export interface StoredHandleProfile extends HandleProfileSettings {
  orgId: number;
  handle: string;
  scriptPosition: number;
  createdAt: Date;
  updatedAt: Date;
}

/** Defaults of every handle without settings: the quickstart's recipient, delivered at once. */
export const DEFAULT_PROFILE: Readonly<HandleProfileSettings> = Object.freeze<HandleProfileSettings>({
  service: "iMessage",
  reachable: true,
  latencyMs: 0,
  jitterMs: 0,
  readAfterMs: null,
  autoReply: { type: "none" },
  autoReaction: null,
});

const SERVICE_RANK: Record<Service, number> = { SMS: 1, RCS: 2, iMessage: 3 };

/** The service every listed device can use (a group falls back to its weakest member). */
export function commonService(services: readonly Service[]): Service {
  if (services.length === 0) return "iMessage";
  return services.reduce((worst, s) => (SERVICE_RANK[s] < SERVICE_RANK[worst] ? s : worst));
}

/** SMS carries neither typing indicators nor read receipts nor shared name and photo. */
export function hasRichSignals(service: Service): boolean {
  return service !== "SMS";
}
