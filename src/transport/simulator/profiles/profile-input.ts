import { DomainError } from "../../../core/errors.ts";
import { isEmailHandle } from "../../../core/handles.ts";
import { MAX_TEXT_LENGTH } from "../../../core/messages/messages.service.ts";
import { REACTION_TYPES, SERVICES, type ReactionType, type Service } from "../../../core/model.ts";
import type { AutoReaction, AutoReply, HandleProfileSettings, ScriptedReply } from "./profile.ts";

/**
 * Reads profile settings as clients write them (snake_case JSON from PUT
 * /openlinq/v1/handles/{handle}, or the same keys in the seed file) into core's settings.
 * Every field is optional: what is missing keeps its current value.
 */

/** Longest delay anything may be scheduled for: a week of (virtual) time. */
export const MAX_DELAY_MS = 7 * 24 * 3600 * 1000;
export const MAX_SCRIPTED_REPLIES = 100;

const invalid = (field: string, message: string) => new DomainError("validation_failed", `${field} ${message}`, { field });

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function delay(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_DELAY_MS) {
    throw invalid(field, `must be a whole number of milliseconds from 0 to ${MAX_DELAY_MS}`);
  }
  return value;
}

function optionalDelay(value: unknown, field: string, fallback: number): number {
  return value === undefined ? fallback : delay(value, field);
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[], field: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw invalid(`${field}.${key}`, `is not a known field; known: ${allowed.join(", ")}`);
  }
}

function urls(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid(field, "must be a list of http(s) URLs");
  return value.map((url, i) => {
    let parsed: URL | undefined;
    try {
      parsed = typeof url === "string" ? new URL(url) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
      throw invalid(`${field}[${i}]`, "must be an http(s) URL");
    }
    return url as string;
  });
}

function scriptedReply(value: unknown, field: string): ScriptedReply {
  if (typeof value === "string") value = { text: value };
  if (!isObject(value)) throw invalid(field, "must be a reply: {text, delay_ms?, attachment_urls?} or a string");
  onlyKeys(value, ["text", "delay_ms", "attachment_urls"], field);
  const text = value.text ?? "";
  if (typeof text !== "string" || text.length > MAX_TEXT_LENGTH) {
    throw invalid(`${field}.text`, `must be a string of at most ${MAX_TEXT_LENGTH} characters`);
  }
  const attachmentUrls = urls(value.attachment_urls, `${field}.attachment_urls`);
  if (text.trim() === "" && attachmentUrls.length === 0) throw invalid(`${field}.text`, "is required without attachment_urls");
  return { text, attachmentUrls, delayMs: optionalDelay(value.delay_ms, `${field}.delay_ms`, 0) };
}

function autoReply(value: unknown, field: string): AutoReply {
  if (value === null || value === "none") return { type: "none" };
  if (value === "echo") return { type: "echo", delayMs: 0 };
  if (!isObject(value)) throw invalid(field, 'must be {"type": "none" | "echo" | "script", …}');
  switch (value.type) {
    case "none":
      onlyKeys(value, ["type"], field);
      return { type: "none" };
    case "echo":
      onlyKeys(value, ["type", "delay_ms"], field);
      return { type: "echo", delayMs: optionalDelay(value.delay_ms, `${field}.delay_ms`, 0) };
    case "script": {
      onlyKeys(value, ["type", "replies", "loop"], field);
      if (!Array.isArray(value.replies) || value.replies.length === 0 || value.replies.length > MAX_SCRIPTED_REPLIES) {
        throw invalid(`${field}.replies`, `must list 1 to ${MAX_SCRIPTED_REPLIES} replies`);
      }
      if (value.loop !== undefined && typeof value.loop !== "boolean") throw invalid(`${field}.loop`, "must be true or false");
      return {
        type: "script",
        replies: value.replies.map((reply, i) => scriptedReply(reply, `${field}.replies[${i}]`)),
        loop: value.loop === true,
      };
    }
    default:
      throw invalid(`${field}.type`, "must be none, echo or script");
  }
}

function autoReaction(value: unknown, field: string): AutoReaction | null {
  if (value === null || value === "none") return null;
  if (typeof value === "string") value = { type: value };
  if (!isObject(value)) throw invalid(field, `must be null or {"type": ${REACTION_TYPES.join(" | ")}, "delay_ms"?}`);
  onlyKeys(value, ["type", "delay_ms"], field);
  if (!REACTION_TYPES.includes(value.type as ReactionType)) {
    throw invalid(`${field}.type`, `must be one of ${REACTION_TYPES.join(", ")}`);
  }
  return { type: value.type as ReactionType, delayMs: optionalDelay(value.delay_ms, `${field}.delay_ms`, 0) };
}

export const PROFILE_FIELDS = [
  "service",
  "reachable",
  "latency_ms",
  "jitter_ms",
  "read_after_ms",
  "auto_reply",
  "auto_reaction",
] as const;

/** Parses the fields present in `input`; throws validation_failed naming the first bad field. */
export function parseProfileChanges(input: unknown, prefix = ""): Partial<HandleProfileSettings> {
  const field = (name: string) => (prefix === "" ? name : `${prefix}.${name}`);
  if (!isObject(input)) throw invalid(prefix || "body", "must be an object of profile settings");
  onlyKeys(input, PROFILE_FIELDS, prefix || "body");
  const changes: Partial<HandleProfileSettings> = {};
  if (input.service !== undefined) {
    if (!SERVICES.includes(input.service as Service)) throw invalid(field("service"), `must be one of ${SERVICES.join(", ")}`);
    changes.service = input.service as Service;
  }
  if (input.reachable !== undefined) {
    if (typeof input.reachable !== "boolean") throw invalid(field("reachable"), "must be true or false");
    changes.reachable = input.reachable;
  }
  if (input.latency_ms !== undefined) changes.latencyMs = delay(input.latency_ms, field("latency_ms"));
  if (input.jitter_ms !== undefined) changes.jitterMs = delay(input.jitter_ms, field("jitter_ms"));
  if (input.read_after_ms !== undefined) {
    changes.readAfterMs =
      input.read_after_ms === null || input.read_after_ms === "never"
        ? null
        : delay(input.read_after_ms, field("read_after_ms"));
  }
  if (input.auto_reply !== undefined) changes.autoReply = autoReply(input.auto_reply, field("auto_reply"));
  if (input.auto_reaction !== undefined) changes.autoReaction = autoReaction(input.auto_reaction, field("auto_reaction"));
  return changes;
}

/** Rules across fields, checked on the merged settings. */
export function checkProfile(handle: string, settings: HandleProfileSettings, prefix = ""): void {
  if (isEmailHandle(handle) && settings.service !== "iMessage") {
    throw invalid(prefix === "" ? "service" : `${prefix}.service`, "must be iMessage for an email handle (SMS and RCS need a phone number)");
  }
}
