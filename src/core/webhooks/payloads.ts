import { chatDisplayName, handleName } from "../chats/chat-names.ts";
import type { Links } from "../deps.ts";
import type { ChatWithHandles, Contact, Message, MessageDetails, Reaction } from "../model.ts";
import { isoMillis, isoSeconds, rubyTime } from "../time.ts";

/**
 * V2 webhook `data` payloads (Linq's V2 webhook payloads). Ids are strings except contact ids; timestamps
 * use the per-field formats of §1.4. Message events also carry the seed's nested
 * `message` and `chat` objects (integer ids, ISO times).
 */

export function webhookChatHandles(chat: ChatWithHandles) {
  return chat.handles
    .filter((h) => h.leftAt === null)
    .map((h) => ({ identifier: h.handle, display_name: handleName(chat, h.handle), is_me: h.isMe }));
}

export function messageEventData(chat: ChatWithHandles, details: MessageDetails, links: Links) {
  const { message } = details;
  return {
    id: String(message.id),
    chat_id: String(message.chatId),
    text: message.text,
    sent_at: rubyTime(message.sentAt),
    is_read: message.isRead,
    from_phone: details.sender,
    service: chat.chat.service,
    reaction_id: null,
    chat_handles: webhookChatHandles(chat),
    attachments: details.attachments.map((a) => ({
      id: a.id,
      url: links.attachmentUrl(a.id, a.filename),
      filename: a.filename,
      mime_type: a.mimeType,
    })),
    message: {
      id: message.id,
      text: message.text,
      sent_at: isoMillis(message.sentAt),
      sent_from: details.sender,
      chat_id: message.chatId,
    },
    chat: {
      id: chat.chat.id,
      display_name: chatDisplayName(chat),
      service: chat.chat.service,
    },
  };
}

export function messageReadEventData(message: Message) {
  return {
    id: String(message.id),
    chat_id: String(message.chatId),
    read_at: isoSeconds(message.readAt ?? message.sentAt),
  };
}

export function reactionEventData(
  chat: ChatWithHandles,
  reaction: Reaction,
  reactedTo: Message,
  operation: "add" | "remove",
) {
  const reactor = chat.handles.find((h) => h.id === reaction.chatHandleId);
  return {
    id: String(reaction.id),
    chat_message_id: String(reaction.messageId),
    chat_id: String(chat.chat.id),
    reaction: reaction.reaction,
    operation,
    is_from_me: reaction.isFromMe,
    sent_at: rubyTime(reaction.sentAt),
    created_at: rubyTime(reaction.createdAt),
    chat_handle: { id: String(reaction.chatHandleId), identifier: reactor?.handle ?? reaction.fromPhone },
    chat_handles: webhookChatHandles(chat),
    associated_message: {
      id: String(reactedTo.id),
      text: reactedTo.text,
      sent_at: rubyTime(reactedTo.sentAt),
    },
  };
}

export function chatCreatedEventData(chat: ChatWithHandles) {
  return {
    id: String(chat.chat.id),
    display_name: chatDisplayName(chat),
    service: chat.chat.service,
    group: chat.chat.isGroup,
    chat_handles: webhookChatHandles(chat),
  };
}

export function typingEventData(chat: ChatWithHandles, display: boolean, at: Date) {
  return {
    chat_id: String(chat.chat.id),
    display,
    timestamp: rubyTime(at),
    chat_handles: webhookChatHandles(chat),
  };
}

export function participantEventData(chat: ChatWithHandles, handle: { id: number; handle: string }, at: Date) {
  return {
    chat_id: String(chat.chat.id),
    chat_handle: { id: String(handle.id), identifier: handle.handle },
    chat_handles: webhookChatHandles(chat),
    timestamp: rubyTime(at),
  };
}

/** REST Contact object; also the `data` of contact.created / contact.updated. */
export function contactObject(contact: Contact) {
  return {
    id: contact.id,
    first_name: contact.firstName,
    last_name: contact.lastName,
    full_name: `${contact.firstName} ${contact.lastName}`.trim(),
    email: contact.email,
    phone_number: contact.phoneNumber,
    company: contact.company,
    title: contact.title,
    location: contact.location,
    image_url: contact.imageUrl,
    created_at: isoMillis(contact.createdAt),
    updated_at: isoMillis(contact.updatedAt),
    contact_owner: contact.owner
      ? {
          id: contact.owner.id,
          email: contact.owner.email,
          first_name: contact.owner.firstName,
          last_name: contact.owner.lastName,
          name: `${contact.owner.firstName} ${contact.owner.lastName}`.trim(),
        }
      : null,
  };
}
