import { prettyHandle } from "../handles.ts";
import type { ChatHandle, ChatParticipants, ChatWithHandles } from "../model.ts";
import type { Repositories } from "../ports.ts";

/** Participants other than us who are still in the chat. */
export function otherParticipants(chat: ChatParticipants): ChatHandle[] {
  return chat.handles.filter((h) => !h.isMe && h.leftAt === null);
}

export function ourHandle(chat: ChatParticipants): ChatHandle {
  const mine = chat.handles.find((h) => h.isMe);
  if (!mine) throw new Error(`chat ${chat.chat.id} has no handle for our number`);
  return mine;
}

/** How a participant is shown: the org's contact name for the handle, else the pretty number or email. */
export function handleName(chat: ChatWithHandles, handle: string): string {
  return chat.contactNames.get(handle) ?? prettyHandle(handle);
}

/**
 * The creator's name if set, else the participants' names comma-joined (Linq's rule): contact
 * names where the org has a contact for the handle ("John Doe, Jane Smith"), pretty numbers
 * elsewhere.
 */
export function chatDisplayName(chat: ChatWithHandles): string {
  if (chat.chat.displayName) return chat.chat.displayName;
  return otherParticipants(chat)
    .map((h) => handleName(chat, h.handle))
    .join(", ");
}

/**
 * Sorted, de-duplicated recipients: the find-or-create key of a chat. A chat's key follows its
 * current members (see `rekeyChat`), so create and find reach it by who is in it now.
 */
export function participantsKey(handles: readonly string[]): string {
  return [...new Set(handles)].sort().join(",");
}

/**
 * The key of a chat whose member set another chat on the same line already holds: unique,
 * and never equal to a real key (handles contain no spaces), so only the holder is found.
 */
export function shadowedParticipantsKey(key: string, chatId: number): string {
  return `${key} (chat ${chatId})`;
}

/**
 * Points the chat's find-or-create key at its current members after people joined or left.
 * When another chat of the line already has exactly these members, that chat keeps the key
 * (create and find keep answering what they answered before) and this one is found by id only.
 */
export async function rekeyChat(tx: Repositories, chat: ChatWithHandles): Promise<void> {
  const key = participantsKey(otherParticipants(chat).map((h) => h.handle));
  if (key === chat.chat.participantsKey) return;
  const holder = await tx.chats.findByParticipants(chat.chat.phoneNumberId, key);
  const next = holder && holder.id !== chat.chat.id ? shadowedParticipantsKey(key, chat.chat.id) : key;
  await tx.chats.setParticipantsKey(chat.chat.id, next);
  chat.chat.participantsKey = next;
}
