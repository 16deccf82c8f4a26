import type { DeviceSignal } from "../../core/devices/device-signal.ts";
import type { EventRef } from "../../core/inbound/inbound.ts";
import type { AutoReply, HandleProfile } from "../../transport/simulator/profiles/profile.ts";
import { isoMillis } from "../../core/time.ts";

/** Wire shapes of the sandbox endpoints: snake_case, integer ids, ISO timestamps, like V2. */

function toWireAutoReply(reply: AutoReply) {
  switch (reply.type) {
    case "none":
      return { type: "none" };
    case "echo":
      return { type: "echo", delay_ms: reply.delayMs };
    case "script":
      return {
        type: "script",
        loop: reply.loop,
        replies: reply.replies.map((r) => ({ text: r.text, delay_ms: r.delayMs, attachment_urls: r.attachmentUrls })),
      };
  }
}

export function toWireDeviceState(signals: readonly DeviceSignal[]) {
  const of = (kind: DeviceSignal["kind"]) => signals.filter((s) => s.kind === kind);
  return {
    sees_our_typing: of("our_typing").map((s) => ({
      chat_id: s.chatId,
      since: isoMillis(s.at),
      expires_at: s.expiresAt ? isoMillis(s.expiresAt) : null,
    })),
    read_receipts: of("read_receipt").map((s) => ({ chat_id: s.chatId, read_at: isoMillis(s.at) })),
    contact_cards: of("contact_card").map((s) => ({
      chat_id: s.chatId,
      phone_number: String(s.detail?.phone_number ?? ""),
      name: String(s.detail?.name ?? ""),
      shared_at: isoMillis(s.at),
    })),
    typing: of("their_typing").map((s) => ({ chat_id: s.chatId, since: isoMillis(s.at) })),
  };
}

export function toWireProfile(profile: HandleProfile, signals?: readonly DeviceSignal[]) {
  return {
    handle: profile.handle,
    service: profile.service,
    reachable: profile.reachable,
    latency_ms: profile.latencyMs,
    jitter_ms: profile.jitterMs,
    read_after_ms: profile.readAfterMs,
    auto_reply: toWireAutoReply(profile.autoReply),
    auto_reaction: profile.autoReaction ? { type: profile.autoReaction.type, delay_ms: profile.autoReaction.delayMs } : null,
    script_position: profile.scriptPosition,
    stored: profile.stored,
    magic: profile.magic,
    updated_at: profile.updatedAt ? isoMillis(profile.updatedAt) : null,
    ...(signals ? { device: toWireDeviceState(signals) } : {}),
  };
}

export function toWireEvents(events: readonly EventRef[]) {
  return events.map((e) => ({ event_id: e.id, event_type: e.type }));
}
