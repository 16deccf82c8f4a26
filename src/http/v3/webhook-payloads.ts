import {
  isCallStepEvent,
  type CallStepEvent,
  type ChatFacts,
  type DomainEvent,
  type HandleFacts,
  type MessageFacts,
  type RecordedEvent,
  type RenderedWebhook,
  type WebhookRenderer,
} from "../../core/events/domain-events.ts";
import { DomainError } from "../../core/errors.ts";
import type { WebhookSubscription } from "../../core/model.ts";
import { isoMillis } from "../../core/time.ts";
import { toV3AppCardPart } from "./message-content.ts";

/**
 * V3 webhook payloads, rendered from domain events: the envelope every V3 event shares
 * (`api_version`, `webhook_version`, `event_type`, `event_id`, `created_at`, `partner_id`,
 * `trace_id`, `data`) around the `data` of the subscription's payload version. Only the
 * message lifecycle events (sent, received, delivered, read) differ between versions;
 * `message.edited` exists only in 2026-02-03. V2's call.completed is not a V3 event: V3 has
 * the call's steps instead.
 */

/** Every event type a V3 subscription may list (the official catalogue). */
export const V3_WEBHOOK_EVENT_TYPES = [
  "message.sent",
  "message.received",
  "message.read",
  "message.delivered",
  "message.failed",
  "message.edited",
  "reaction.added",
  "reaction.removed",
  "participant.added",
  "participant.removed",
  "chat.created",
  "chat.group_name_updated",
  "chat.group_icon_updated",
  "chat.group_name_update_failed",
  "chat.group_icon_update_failed",
  "chat.typing_indicator.started",
  "chat.typing_indicator.stopped",
  "phone_number.status_updated",
  "call.initiated",
  "call.ringing",
  "call.answered",
  "call.ended",
  "call.failed",
  "call.declined",
  "call.no_answer",
  "location.sharing.started",
  "location.sharing.stopped",
] as const;
export type V3WebhookEventType = (typeof V3_WEBHOOK_EVENT_TYPES)[number];

export const WEBHOOK_EVENTS_DOC_URL = "https://docs.linqapp.com/guides/webhooks/events";

/** The payload versions, oldest first; the newest is the default. */
export const WEBHOOK_VERSIONS = ["2025-01-01", "2026-02-03"] as const;
export type WebhookVersion = (typeof WEBHOOK_VERSIONS)[number];
export const DEFAULT_WEBHOOK_VERSION: WebhookVersion = "2026-02-03";

/**
 * The payload version a target URL asks for with `?version=`. Linq defaults by the
 * subscription's creation date; every subscription here is new, so the default is the
 * newest version, the one the official client's types describe.
 */
export function webhookVersionOf(targetUrl: string): WebhookVersion {
  let asked: string | null = null;
  try {
    asked = new URL(targetUrl).searchParams.get("version");
  } catch {
    return DEFAULT_WEBHOOK_VERSION;
  }
  return (WEBHOOK_VERSIONS as readonly string[]).includes(asked ?? "") ? (asked as WebhookVersion) : DEFAULT_WEBHOOK_VERSION;
}

/** A `?version=` that names no payload version is refused when the subscription is created or changed. */
export function checkWebhookVersion(targetUrl: string): void {
  const asked = new URL(targetUrl).searchParams.get("version");
  if (asked !== null && !(WEBHOOK_VERSIONS as readonly string[]).includes(asked)) {
    const reason = `: unknown payload version "${asked}" in ?version=; use ${WEBHOOK_VERSIONS.join(" or ")} (default ${DEFAULT_WEBHOOK_VERSION})`;
    throw new DomainError("validation_failed", `targetUrl${reason}`, { field: "targetUrl", reason });
  }
}

const HEALTH_DOC_URL = "https://docs.linqapp.com/guides/chat-health";
const iso = (text: string) => isoMillis(new Date(text));
const isoOrNull = (text: string | null) => (text === null ? null : iso(text));

function handleObject(handle: HandleFacts) {
  return {
    id: handle.uuid,
    handle: handle.handle,
    joined_at: iso(handle.joinedAt),
    service: handle.service,
    is_me: handle.isMe,
    left_at: isoOrNull(handle.leftAt),
    status: handle.leftAt === null ? "active" : "left",
  };
}

/** Chats are never rated here: every chat stays HEALTHY, since it was created. */
function healthStatus(chat: ChatFacts) {
  return { status: "HEALTHY", doc_url: HEALTH_DOC_URL, updated_at: iso(chat.createdAt) };
}

function ownerHandle(chat: ChatFacts): HandleFacts | undefined {
  return chat.handles.find((h) => h.isMe);
}

function chatRef(chat: ChatFacts) {
  const owner = ownerHandle(chat);
  return { id: chat.uuid, is_group: chat.isGroup, owner_handle: owner ? handleObject(owner) : null, health_status: healthStatus(chat) };
}

/** The default V3 name: the other participants' handles, comma-joined. */
function displayName(chat: ChatFacts): string {
  return chat.customName ?? chat.handles.filter((h) => !h.isMe && h.leftAt === null).map((h) => h.handle).join(", ");
}

function senderOf(chat: ChatFacts, message: MessageFacts): HandleFacts | undefined {
  return chat.handles.find((h) => h.id === message.senderHandleId);
}

/** Webhook parts: the REST parts without reactions. */
function webhookParts(message: MessageFacts) {
  const attachments = new Map(message.attachments.map((a) => [a.id, a]));
  return message.parts.map((part) => {
    switch (part.type) {
      case "text":
        return { type: "text", value: part.value, text_decorations: part.textDecorations ?? null };
      case "link":
        return { type: "link", value: part.value };
      case "media": {
        const attachment = attachments.get(part.attachmentId);
        return {
          type: "media",
          id: part.attachmentId,
          url: attachment?.url ?? "",
          filename: attachment?.filename ?? "",
          mime_type: attachment?.mimeType ?? "application/octet-stream",
          size_bytes: attachment?.fileSize ?? 0,
        };
      }
      case "imessage_app":
        return toV3AppCardPart(part, true);
    }
  });
}

type MessageLifecycle = "message.sent" | "message.received" | "message.delivered" | "message.read";

/**
 * Each event shows the message as it was at that step: sent and received carry `sent_at`
 * only, delivered adds `delivered_at`, read adds `read_at`.
 */
function lifecycleTimes(type: MessageLifecycle, message: MessageFacts) {
  const deliveredAt = type === "message.delivered" || type === "message.read" ? isoOrNull(message.deliveredAt) : null;
  const readAt = type === "message.read" ? isoOrNull(message.readAt) : null;
  return { sentAt: iso(message.sentAt), deliveredAt, readAt };
}

function replyTo(message: MessageFacts) {
  return message.replyTo ? { message_id: message.replyTo.messageUuid, part_index: message.replyTo.partIndex } : null;
}

/** 2026-02-03: the message at the top level, with its chat, direction and sender. */
function messageDataCurrent(type: MessageLifecycle, chat: ChatFacts, message: MessageFacts) {
  const times = lifecycleTimes(type, message);
  const sender = senderOf(chat, message);
  return {
    id: message.uuid,
    chat: chatRef(chat),
    direction: message.isFromMe ? "outbound" : "inbound",
    sender_handle: sender ? handleObject(sender) : null,
    parts: webhookParts(message),
    service: chat.service,
    sent_at: times.sentAt,
    delivered_at: times.deliveredAt,
    read_at: times.readAt,
    effect: message.effect,
    idempotency_key: message.isFromMe ? message.idempotencyKey : null,
    preferred_service: message.isFromMe ? (message.preferredService ?? "auto") : null,
    reply_to: replyTo(message),
  };
}

/** 2025-01-01: chat and sender fields around a nested `message`. */
function messageDataLegacy(type: MessageLifecycle, chat: ChatFacts, message: MessageFacts) {
  const times = lifecycleTimes(type, message);
  const sender = senderOf(chat, message);
  // The recipient of an inbound message is our line; sent events carry none.
  const recipient = message.isFromMe ? undefined : ownerHandle(chat);
  return {
    chat_id: chat.uuid,
    is_group: chat.isGroup,
    is_from_me: message.isFromMe,
    from: message.sender,
    from_handle: sender ? handleObject(sender) : null,
    recipient_phone: recipient?.handle ?? null,
    recipient_handle: recipient ? handleObject(recipient) : null,
    received_at: message.isFromMe ? null : times.sentAt,
    service: chat.service,
    preferred_service: message.isFromMe ? (message.preferredService ?? "auto") : null,
    idempotency_key: message.isFromMe ? message.idempotencyKey : null,
    ...(type === "message.delivered" || type === "message.read" ? { message_id: message.uuid } : {}),
    ...(type === "message.delivered" || type === "message.read" ? { delivered_at: times.deliveredAt } : {}),
    ...(type === "message.read" ? { read_at: times.readAt } : {}),
    message: {
      id: message.uuid,
      created_at: times.sentAt,
      updated_at: iso(message.editedAt ?? message.sentAt),
      sent_at: times.sentAt,
      delivered_at: times.deliveredAt,
      read_at: times.readAt,
      is_delivered: times.deliveredAt !== null,
      is_read: times.readAt !== null,
      parts: webhookParts(message),
      effect: message.effect,
      reply_to: replyTo(message),
    },
  };
}

/**
 * A call step's `data`, the same in both payload versions (Linq has not published it): the call
 * as it was at that step, in the field names of V2's call.completed turned V3-style. `status` is
 * the step; `answered_*` are set from call.answered on, `ended_at`, `duration_seconds`,
 * `voicemail` and `recording` on the step that ends the call (ended, declined, no_answer, failed).
 * `id` is the call's id as V2's call.completed shows it, so both faces' events can be matched.
 */
function callData(event: CallStepEvent) {
  const { call } = event;
  const answered = event.type === "call.answered" || event.type === "call.ended";
  const over = event.type !== "call.initiated" && event.type !== "call.ringing" && event.type !== "call.answered";
  const recording = over ? call.recording : null;
  return {
    id: String(call.id),
    status: event.type.slice("call.".length),
    direction: call.direction,
    from: call.fromHandle,
    to: call.toHandle,
    phone_number: event.line,
    chat_id: event.chatUuid,
    started_at: iso(call.startedAt),
    answered_at: answered ? iso(call.startedAt) : null,
    answered_by: answered ? call.answeredBy : null,
    forwarded_from: call.forwardedFrom,
    ended_at: over ? iso(call.endedAt) : null,
    duration_seconds: over ? call.durationSeconds : null,
    voicemail: over && call.voicemail,
    recording: recording
      ? {
          url: recording.url,
          duration_seconds: recording.durationSeconds,
          transcription: recording.transcription,
          summary: recording.summary,
        }
      : null,
  };
}

/** Codes of `message.failed` and the group update failures. */
const DELIVERY_FAILED = 4001;

/** The V3 event type and `data` of a domain event for one payload version; undefined when V3 has no such event. */
export function v3EventData(
  event: DomainEvent,
  version: WebhookVersion,
): { type: V3WebhookEventType; data: Record<string, unknown> } | undefined {
  if (isCallStepEvent(event)) return { type: event.type, data: callData(event) };
  switch (event.type) {
    case "message.sent":
    case "message.received":
    case "message.delivered":
    case "message.read":
      return {
        type: event.type,
        data:
          version === "2025-01-01"
            ? messageDataLegacy(event.type, event.chat, event.message)
            : messageDataCurrent(event.type, event.chat, event.message),
      };
    case "message.failed":
      return {
        type: event.type,
        data: {
          code: event.code ?? DELIVERY_FAILED,
          failed_at: iso(event.at),
          chat_id: event.chat.uuid,
          message_id: event.message.uuid,
          reason:
            event.reason ??
            (event.failure === "service_unavailable" ? "The recipient cannot be reached on any service" : "Delivery failed"),
        },
      };
    case "message.edited": {
      if (version === "2025-01-01") return undefined;
      const sender = senderOf(event.chat, event.message);
      return {
        type: event.type,
        data: {
          id: event.message.uuid,
          chat: chatRef(event.chat),
          direction: event.message.isFromMe ? "outbound" : "inbound",
          sender_handle: sender ? handleObject(sender) : null,
          edited_at: iso(event.at),
          part: { index: event.partIndex, text: event.partText },
        },
      };
    }
    case "reaction.sent":
    case "reaction.received": {
      const { reaction, chat, message } = event;
      const reactor = chat.handles.find((h) => h.id === reaction.reactorHandleId);
      return {
        type: event.operation === "add" ? "reaction.added" : "reaction.removed",
        data: {
          is_from_me: reaction.isFromMe,
          reaction_type: reaction.reaction,
          chat_id: chat.uuid,
          message_id: message.uuid,
          part_index: reaction.partIndex,
          custom_emoji: reaction.customEmoji,
          sticker: null,
          from: reaction.reactor,
          ...(reactor ? { from_handle: handleObject(reactor) } : {}),
          reacted_at: iso(reaction.sentAt),
          service: chat.service,
        },
      };
    }
    case "typing_indicator.received":
    case "typing_indicator.removed":
      return {
        type: event.type === "typing_indicator.received" ? "chat.typing_indicator.started" : "chat.typing_indicator.stopped",
        data: { chat_id: event.chat.uuid },
      };
    case "chat.created":
      return {
        type: event.type,
        data: {
          id: event.chat.uuid,
          created_at: iso(event.chat.createdAt),
          updated_at: iso(event.chat.updatedAt),
          display_name: displayName(event.chat),
          handles: event.chat.handles.map(handleObject),
          health_status: healthStatus(event.chat),
          is_group: event.chat.isGroup,
          service: event.chat.service,
        },
      };
    case "participant.added":
    case "participant.removed":
      return {
        type: event.type,
        data: {
          handle: event.handle.handle,
          participant: handleObject(event.handle),
          chat_id: event.chat.uuid,
          [event.type === "participant.added" ? "added_at" : "removed_at"]: iso(event.at),
        },
      };
    case "chat.group_name_updated":
    case "chat.group_icon_updated":
      return {
        type: event.type,
        data: {
          chat_id: event.chat.uuid,
          updated_at: iso(event.at),
          old_value: event.previous,
          new_value: event.current,
          changed_by_handle: event.changedBy ? handleObject(event.changedBy) : null,
        },
      };
    case "chat.group_name_update_failed":
    case "chat.group_icon_update_failed":
      return { type: event.type, data: { chat_id: event.chat.uuid, error_code: DELIVERY_FAILED, failed_at: iso(event.at) } };
    case "phone_number.status_updated": {
      const { line } = event;
      return {
        type: event.type,
        data: {
          phone_number: line.phoneNumber,
          changed_at: iso(event.at),
          previous_status: line.previousStatus,
          new_status: line.status,
          previous_reputation: line.previousReputation,
          new_reputation: line.reputation,
          previous_health_status: line.previousReputation,
          new_health_status: line.reputation,
        },
      };
    }
    case "location.sharing.started":
      return {
        type: event.type,
        data: {
          shared_by: event.handle.handle,
          shared_with: event.chat.phoneNumber,
          began_at: iso(event.beganAt),
          ends_at: isoOrNull(event.endsAt),
          chat_id: event.chat.uuid,
        },
      };
    case "location.sharing.stopped":
      return { type: event.type, data: { shared_by: event.handle.handle, shared_with: event.chat.phoneNumber } };
    case "contact.created":
    case "contact.updated":
    case "contact.deleted":
    case "call.completed":
      return undefined;
  }
}

/** The V3 event type of a domain event without rendering it; undefined when V3 (or this version) has no such event. */
function v3EventType(event: DomainEvent, version: WebhookVersion): V3WebhookEventType | undefined {
  switch (event.type) {
    case "reaction.sent":
    case "reaction.received":
      return event.operation === "add" ? "reaction.added" : "reaction.removed";
    case "typing_indicator.received":
      return "chat.typing_indicator.started";
    case "typing_indicator.removed":
      return "chat.typing_indicator.stopped";
    case "message.edited":
      return version === "2025-01-01" ? undefined : event.type;
    case "contact.created":
    case "contact.updated":
    case "contact.deleted":
    case "call.completed":
      return undefined;
    default:
      return event.type;
  }
}

/** The line an event happened on: the chat's, the call's, or the line whose status changed; none for the rest. */
function lineOf(event: DomainEvent): string | undefined {
  if ("chat" in event) return event.chat.phoneNumber;
  if (event.type === "phone_number.status_updated") return event.line.phoneNumber;
  if (isCallStepEvent(event)) return event.line;
  return undefined;
}

/** The envelope as JSON; the bytes are stored and signed as they are. */
export function renderV3Envelope(recorded: RecordedEvent, subscription: WebhookSubscription): RenderedWebhook | undefined {
  const version = webhookVersionOf(subscription.webhookUrl);
  const rendered = v3EventData(recorded.event, version);
  if (!rendered) return undefined;
  const envelope = {
    api_version: "v3",
    webhook_version: version,
    event_type: rendered.type,
    event_id: recorded.id,
    created_at: isoMillis(recorded.createdAt),
    partner_id: String(recorded.orgId),
    // The event's own trace: stable across retries and resends.
    trace_id: recorded.id.replace(/-/g, ""),
    data: rendered.data,
  };
  return { eventType: rendered.type, body: JSON.stringify(envelope) };
}

/** The V3 face's webhook renderer: subscribers of the V3 event type, on a line they filter for. */
export const v3WebhookRenderer: WebhookRenderer = {
  selects(recorded, subscription) {
    const type = v3EventType(recorded.event, webhookVersionOf(subscription.webhookUrl));
    if (type === undefined || !subscription.events.includes(type)) return false;
    if (subscription.phoneNumbers === null) return true;
    const line = lineOf(recorded.event);
    return line !== undefined && subscription.phoneNumbers.includes(line);
  },
  render: renderV3Envelope,
};
