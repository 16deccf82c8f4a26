import { chatDisplayName, handleName } from "../../core/chats/chat-names.ts";
import type { Links } from "../../core/deps.ts";
import { prettyHandle } from "../../core/handles.ts";
import type { InboxChat, InboxSession, InboxThread } from "../../core/inbox/inbox.service.ts";
import type { Activity, Page } from "../../core/ports.ts";
import type { ChatWithHandles, MessageDetails } from "../../core/model.ts";
import { isoMillis } from "../../core/time.ts";
import { toV2Attachment } from "../v2/presenters.ts";

/**
 * Wire shapes of the inbox's own endpoints. Unlike V2 they say which side wrote a message
 * (`is_from_me`), carry read/left times and pretty-printed handles, so the browser needs no
 * phone-number library.
 */

const maybeIso = (date: Date | null) => (date ? isoMillis(date) : null);

export function toInboxSession(session: InboxSession) {
  return {
    organization: { id: session.organization.id, name: session.organization.name },
    phone_numbers: session.phoneNumbers.map((n) => ({
      id: n.id,
      phone_number: n.phoneNumber,
      display: prettyHandle(n.phoneNumber),
    })),
  };
}

export function toInboxParticipants(chat: ChatWithHandles) {
  return chat.handles.map((h) => ({
    id: h.id,
    handle: h.handle,
    display: handleName(chat, h.handle),
    service: h.service,
    is_me: h.isMe,
    joined_at: isoMillis(h.joinedAt),
    left_at: maybeIso(h.leftAt),
  }));
}

export function toInboxChatHeader(chat: ChatWithHandles) {
  return {
    id: chat.chat.id,
    display_name: chatDisplayName(chat) || prettyHandle(chat.phoneNumber),
    service: chat.chat.service,
    group: chat.chat.isGroup,
    message_count: chat.chat.messageCount,
    phone_number: chat.phoneNumber,
    last_activity_at: isoMillis(chat.chat.lastActivityAt),
    created_at: isoMillis(chat.chat.createdAt),
    participants: toInboxParticipants(chat),
  };
}

export function toInboxMessage(details: MessageDetails, links: Links) {
  const { message } = details;
  return {
    id: message.id,
    chat_id: message.chatId,
    text: message.text,
    is_from_me: message.isFromMe,
    sender: details.sender,
    sent_at: isoMillis(message.sentAt),
    delivered_at: maybeIso(message.deliveredAt),
    delivery_status: message.deliveryStatus,
    is_read: message.isRead,
    read_at: maybeIso(message.readAt),
    edited_at: maybeIso(message.editedAt),
    attachments: details.attachments.map((a) => toV2Attachment(a, links)),
    reactions: details.reactions.map((r) => ({
      id: r.id,
      reaction: r.reaction,
      is_from_me: r.isFromMe,
      from_phone: r.fromPhone,
      sent_at: isoMillis(r.sentAt),
    })),
  };
}

export function toInboxChatList(page: Page<InboxChat>, pageNumber: number, perPage: number, links: Links) {
  return {
    data: page.items.map((item) => ({
      ...toInboxChatHeader(item.chat),
      unread_count: item.unreadCount,
      last_message: item.lastMessage ? toInboxMessage(item.lastMessage, links) : null,
    })),
    meta: { page: pageNumber, per_page: perPage, total_count: page.total, total_pages: Math.ceil(page.total / perPage) },
  };
}

export function toInboxThread(thread: InboxThread, links: Links) {
  return {
    chat: toInboxChatHeader(thread.chat),
    messages: thread.messages.map((m) => toInboxMessage(m, links)),
    has_older: thread.hasOlder,
    typing: thread.typing.map((t) => ({ handle: t.handle, is_me: t.isMe })),
  };
}

/** One server-sent event's data. */
export function toStreamActivity(activity: Activity) {
  return {
    kind: activity.kind,
    chat_id: activity.chatId ?? null,
    message_id: activity.messageId ?? null,
    event_id: activity.eventId ?? null,
    event_type: activity.eventType ?? null,
    detail: activity.detail ?? null,
  };
}
