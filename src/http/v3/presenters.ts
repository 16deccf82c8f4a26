import { otherParticipants } from "../../core/chats/chat-names.ts";
import type { Links } from "../../core/deps.ts";
import { messageParts } from "../../core/messages/parts.ts";
import type { Attachment, ChatHandle, ChatWithHandles, DeliveryStatus, Message, MessageDetails, Reaction } from "../../core/model.ts";
import { isoMillis } from "../../core/time.ts";
import { toV3AppCardPart } from "./message-content.ts";

/** V3 wire objects: UUID ids, ISO 8601 timestamps, every nullable field present. */

const HEALTH_DOC_URL = "https://docs.linqapp.com/guides/chat-health";

export type V3DeliveryStatus = "pending" | "queued" | "sent" | "delivered" | "received" | "read" | "failed";

/**
 * The V3 lifecycle of a message from the domain status: inbound messages are `received`;
 * ours go pending/queued → sent → delivered → read, or failed. `paused` (held back by the
 * network) shows as `queued`; every refusal reason shows as `failed`.
 */
export function toV3DeliveryStatus(message: Message): V3DeliveryStatus {
  if (!message.isFromMe) return "received";
  // `sent` and `queued` are listed for the day the domain tracks them.
  const status = message.deliveryStatus as DeliveryStatus | "sent" | "queued";
  switch (status) {
    case "pending":
      return "pending";
    case "queued":
    case "paused":
      return "queued";
    case "sent":
      return "sent";
    case "delivered":
      return message.isRead ? "read" : "delivered";
    case "failed":
    case "service_unavailable":
    case "rate_limit_exceeded":
      return "failed";
  }
  return "pending";
}

export function toV3Handle(handle: ChatHandle) {
  return {
    id: handle.uuid,
    handle: handle.handle,
    joined_at: isoMillis(handle.joinedAt),
    service: handle.service,
    is_me: handle.isMe,
    left_at: handle.leftAt ? isoMillis(handle.leftAt) : null,
    status: handle.leftAt ? ("left" as const) : ("active" as const),
  };
}

/** The default name: the other participants' handles, comma-joined. */
export function v3DisplayName(chat: ChatWithHandles): string {
  return chat.chat.displayName ?? otherParticipants(chat).map((h) => h.handle).join(", ");
}

function healthStatus(chat: ChatWithHandles) {
  return { status: "HEALTHY" as const, doc_url: HEALTH_DOC_URL, updated_at: isoMillis(chat.chat.createdAt) };
}

export function toV3Chat(chat: ChatWithHandles) {
  return {
    id: chat.chat.uuid,
    created_at: isoMillis(chat.chat.createdAt),
    updated_at: isoMillis(chat.chat.updatedAt),
    display_name: v3DisplayName(chat),
    handles: chat.handles.map(toV3Handle),
    health_status: healthStatus(chat),
    is_archived: false,
    is_group: chat.chat.isGroup,
    group_chat_icon: chat.chat.groupChatIcon ?? null,
    service: chat.chat.service,
  };
}

function toV3Reaction(reaction: Reaction, handles: Map<number, ChatHandle>) {
  const handle = handles.get(reaction.chatHandleId);
  return {
    handle: handle
      ? toV3Handle(handle)
      : { id: "", handle: reaction.fromPhone, joined_at: isoMillis(reaction.createdAt), service: "iMessage" },
    is_me: reaction.isFromMe,
    type: reaction.reaction,
    custom_emoji: reaction.customEmoji ?? null,
    sticker: null,
  };
}

const NO_ATTACHMENTS = new Map<string, Attachment>();

function toV3Parts(details: MessageDetails, chat: ChatWithHandles, links: Links) {
  // Most messages have neither reactions nor attachments: nothing to look up then.
  const handles = details.reactions.length > 0 ? new Map(chat.handles.map((h) => [h.id, h])) : undefined;
  const attachments = details.attachments.length > 0 ? new Map(details.attachments.map((a) => [a.id, a])) : NO_ATTACHMENTS;
  return messageParts(details.message, details.attachments).map((part, index) => {
    const reactions = handles
      ? details.reactions.filter((r) => (r.partIndex ?? 0) === index).map((r) => toV3Reaction(r, handles))
      : [];
    switch (part.type) {
      case "text":
        return { type: "text", value: part.value, text_decorations: part.textDecorations ?? null, reactions };
      case "link":
        return { type: "link", value: part.value, reactions };
      case "media": {
        const attachment = attachments.get(part.attachmentId);
        return {
          type: "media",
          id: part.attachmentId,
          url: attachment ? links.attachmentUrl(attachment.id, attachment.filename) : "",
          filename: attachment?.filename ?? "",
          mime_type: attachment?.mimeType ?? "application/octet-stream",
          size_bytes: attachment?.fileSize ?? 0,
          reactions,
        };
      }
      case "imessage_app":
        return { ...toV3AppCardPart(part), reactions };
    }
  });
}

/** SentMessage: what the send endpoints answer. */
export function toV3SentMessage(details: MessageDetails, chat: ChatWithHandles, links: Links) {
  const { message } = details;
  const status = toV3DeliveryStatus(message);
  const sender = chat.handles.find((h) => h.id === message.chatHandleId);
  return {
    id: message.uuid,
    created_at: isoMillis(message.sentAt),
    delivery_status: status,
    is_read: status === "read",
    parts: toV3Parts(details, chat, links),
    sent_at: status === "pending" || status === "queued" || status === "failed" ? null : isoMillis(message.sentAt),
    delivered_at: message.deliveredAt ? isoMillis(message.deliveredAt) : null,
    effect: message.effect,
    from_handle: sender ? toV3Handle(sender) : null,
    preferred_service: message.preferredService,
    reply_to: message.replyTo ? { message_id: message.replyTo.messageUuid, part_index: message.replyTo.partIndex } : null,
    service: chat.chat.service,
  };
}

/** Message: the read model of GET message, lists and threads. */
export function toV3Message(details: MessageDetails, chat: ChatWithHandles, links: Links) {
  const sent = toV3SentMessage(details, chat, links);
  const { message } = details;
  return {
    ...sent,
    chat_id: chat.chat.uuid,
    updated_at: isoMillis(message.editedAt ?? message.deliveredAt ?? message.sentAt),
    is_delivered: sent.delivery_status === "delivered" || sent.delivery_status === "read",
    is_from_me: message.isFromMe,
    is_read: message.isRead,
    read_at: message.readAt ? isoMillis(message.readAt) : null,
    from: details.sender || null,
  };
}
