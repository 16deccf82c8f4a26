import { notFound } from "../errors.ts";
import type { Chat, ChatHandle, ChatParticipants, ChatWithHandles, Message, MessageDetails } from "../model.ts";
import type { ChatNamed, Repositories } from "../ports.ts";

/** Chats with their participants and the contact names of those participants (one query per org). */
export async function withHandles(repos: Repositories, chats: Chat[]): Promise<ChatWithHandles[]> {
  const loaded = new Map<number, { handles: Map<number, ChatHandle[]>; names: Map<string, string> }>();
  for (const orgId of new Set(chats.map((c) => c.orgId))) {
    const ids = chats.filter((c) => c.orgId === orgId).map((c) => c.id);
    loaded.set(orgId, await repos.chats.handlesWithNamesFor(orgId, ids));
  }
  return chats.map((chat) => {
    const { handles, names } = loaded.get(chat.orgId)!;
    const list = handles.get(chat.id) ?? [];
    const mine = list.find((h) => h.isMe);
    return { chat, handles: list, phoneNumber: mine?.handle ?? "", contactNames: names };
  });
}

/** A chat as loaded with its participants' contact names, with our own number. */
function withPhoneNumber(named: ChatNamed): ChatWithHandles {
  return { ...named, phoneNumber: named.handles.find((h) => h.isMe)?.handle ?? "" };
}

/** The org's chat and its participants without their names, or chat_not_found (also for other orgs' ids). */
export async function loadParticipants(repos: Repositories, orgId: number, chatId: number): Promise<ChatParticipants> {
  const found = await repos.chats.findWithHandles(orgId, chatId);
  if (!found) throw notFound("chat_not_found", "Chat not found");
  return found;
}

/** The same, addressed by the chat's UUID (V3). */
export async function loadParticipantsByUuid(repos: Repositories, orgId: number, uuid: string): Promise<ChatParticipants> {
  const found = await repos.chats.findByUuidWithHandles(orgId, uuid);
  if (!found) throw notFound("chat_not_found", "Chat not found");
  return found;
}

/** The org's chat with its participants, or chat_not_found (also for other orgs' ids). */
export async function loadChat(repos: Repositories, orgId: number, chatId: number): Promise<ChatWithHandles> {
  const found = await repos.chats.findWithContactNames(orgId, chatId);
  if (!found) throw notFound("chat_not_found", "Chat not found");
  return withPhoneNumber(found);
}

/**
 * Messages with their attachments, reactions and sender. `chatHandles`: the participants of
 * the messages' chat when the caller already loaded them (a chat's page, a send); the
 * senders are then read from them instead of queried (a participant who left keeps its row).
 */
export async function loadMessageDetails(
  repos: Repositories,
  messages: Message[],
  chatHandles?: readonly ChatHandle[],
): Promise<MessageDetails[]> {
  if (messages.length === 0) return [];
  const ids = messages.map((m) => m.id);
  const known = chatHandles && new Map(chatHandles.map((h) => [h.id, h.handle]));
  const [attachments, reactions, senders] = await Promise.all([
    repos.attachments.listForMessages(ids),
    repos.reactions.listForMessages(ids),
    known && messages.every((m) => known.has(m.chatHandleId))
      ? new Map(messages.map((m) => [m.id, known.get(m.chatHandleId)!]))
      : repos.messages.sendersFor(ids),
  ]);
  return messages.map((message) => ({
    message,
    sender: senders.get(message.id) ?? "",
    attachments: attachments.get(message.id) ?? [],
    reactions: reactions.get(message.id) ?? [],
  }));
}

/** The same, addressed by the chat's UUID (V3). */
export async function loadChatByUuid(repos: Repositories, orgId: number, uuid: string): Promise<ChatWithHandles> {
  const found = await repos.chats.findByUuidWithContactNames(orgId, uuid);
  if (!found) throw notFound("chat_not_found", "Chat not found");
  return withPhoneNumber(found);
}
