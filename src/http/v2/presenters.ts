import { chatDisplayName, otherParticipants } from "../../core/chats/chat-names.ts";
import type { Links } from "../../core/deps.ts";
import type {
  Attachment,
  ChatWithHandles,
  MessageDetails,
  PhoneNumber,
  Reaction,
  User,
  WebhookSubscription,
} from "../../core/model.ts";
import { REACTION_TYPES, type ReactionType } from "../../core/model.ts";
import { isoMillis } from "../../core/time.ts";

/** V2 wire objects (Linq's V2 object reference). REST ids are integers; timestamps ISO 8601 with milliseconds. */

export function toV2Chat(chat: ChatWithHandles) {
  return {
    id: chat.chat.id,
    display_name: chatDisplayName(chat),
    service: chat.chat.service,
    group: chat.chat.isGroup,
    message_count: chat.chat.messageCount,
    chat_handles: otherParticipants(chat).map((h) => ({
      id: h.id,
      phone_number: h.handle,
      service: h.service,
      joined_at: isoMillis(h.joinedAt),
    })),
  };
}

export function toV2Reaction(reaction: Reaction) {
  return {
    id: reaction.id,
    chat_message_id: reaction.messageId,
    // Outside the V2 enum only when a V3 custom emoji or sticker is fetched by its id;
    // message lists leave those out (toV2Message).
    reaction: reaction.reaction as ReactionType,
    is_from_me: reaction.isFromMe,
    from_phone: reaction.fromPhone,
    sent_at: isoMillis(reaction.sentAt),
    created_at: isoMillis(reaction.createdAt),
    updated_at: isoMillis(reaction.updatedAt),
  };
}

export function toV2Attachment(attachment: Attachment, links: Links) {
  return {
    id: attachment.id,
    url: links.attachmentUrl(attachment.id, attachment.filename),
    filename: attachment.filename,
    mime_type: attachment.mimeType,
    file_size: attachment.fileSize,
  };
}

/** The six tapbacks: the only reaction types V2 knows. */
export const isTapbackType = (type: string): type is ReactionType => (REACTION_TYPES as readonly string[]).includes(type);
const isTapback = (reaction: Reaction): boolean => isTapbackType(reaction.reaction);

export function toV2Message(details: MessageDetails, links: Links) {
  const { message } = details;
  return {
    id: message.id,
    text: message.text,
    sent_at: isoMillis(message.sentAt),
    delivered_at: message.deliveredAt ? isoMillis(message.deliveredAt) : null,
    delivery_status: message.deliveryStatus,
    edited_at: message.editedAt ? isoMillis(message.editedAt) : null,
    is_read: message.isRead,
    sent_from: details.sender,
    chat_handle_id: message.chatHandleId,
    attachments: details.attachments.map((a) => toV2Attachment(a, links)),
    // V2 knows the six tapbacks only; custom emoji and stickers (V3) stay out of its view.
    reactions: details.reactions.filter(isTapback).map(toV2Reaction),
  };
}

export function toV2PhoneNumber(number: PhoneNumber, user: User | undefined) {
  return {
    id: number.id,
    phone_number: number.phoneNumber,
    forwarding_number: number.forwardingNumber,
    response_rate: number.responseRate,
    user: user
      ? { id: user.id, name: `${user.firstName} ${user.lastName}`.trim(), email: user.email }
      : null,
  };
}

export function toV2Subscription(subscription: WebhookSubscription) {
  return {
    id: subscription.id,
    webhook_url: subscription.webhookUrl,
    version: subscription.version,
    events: subscription.events,
    active: subscription.active,
    secret_configured: subscription.secret !== null,
    last_delivered_at: subscription.lastDeliveredAt ? isoMillis(subscription.lastDeliveredAt) : null,
    delivery_attempts: subscription.deliveryAttempts,
    created_at: isoMillis(subscription.createdAt),
    updated_at: isoMillis(subscription.updatedAt),
  };
}

export function pageMeta(page: number, perPage: number, total: number) {
  return { page, total_pages: Math.ceil(total / perPage), total_count: total, per_page: perPage };
}
