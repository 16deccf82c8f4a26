import { prettyHandle } from "../handles.ts";
import type { ChatHandle, ChatWithHandles } from "../model.ts";

/** Participants other than us who are still in the chat. */
export function otherParticipants(chat: ChatWithHandles): ChatHandle[] {
  return chat.handles.filter((h) => !h.isMe && h.leftAt === null);
}

export function ourHandle(chat: ChatWithHandles): ChatHandle {
  const mine = chat.handles.find((h) => h.isMe);
  if (!mine) throw new Error(`chat ${chat.chat.id} has no handle for our number`);
  return mine;
}

/** The creator's name if set, else the participants' pretty numbers, comma-joined (Linq's rule). */
export function chatDisplayName(chat: ChatWithHandles): string {
  if (chat.chat.displayName) return chat.chat.displayName;
  return otherParticipants(chat)
    .map((h) => prettyHandle(h.handle))
    .join(", ");
}

/** Sorted, de-duplicated recipients: the find-or-create key of a chat. */
export function participantsKey(handles: readonly string[]): string {
  return [...new Set(handles)].sort().join(",");
}
