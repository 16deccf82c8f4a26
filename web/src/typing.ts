import { useEffect, useState } from "preact/hooks";
import { onActivity } from "./live.ts";

/**
 * Who is typing in which chat, from `typing` activities. An indicator that is never
 * removed (a stop lost while disconnected) fades after a minute, as on a phone.
 */
export interface Typist {
  handle: string;
  isMe: boolean;
}

const TYPING_TIMEOUT_MS = 60_000;
const typing = new Map<number, Map<string, { isMe: boolean; timer: ReturnType<typeof setTimeout> }>>();
const listeners = new Set<() => void>();
const changed = () => listeners.forEach((l) => l());

function set(chatId: number, handle: string, isMe: boolean, on: boolean) {
  let chat = typing.get(chatId);
  const existing = chat?.get(handle);
  if (existing) clearTimeout(existing.timer);
  if (on) {
    if (!chat) typing.set(chatId, (chat = new Map()));
    chat.set(handle, { isMe, timer: setTimeout(() => set(chatId, handle, isMe, false), TYPING_TIMEOUT_MS) });
  } else {
    chat?.delete(handle);
  }
  changed();
}

onActivity((activity) => {
  if (activity.kind === "message" && activity.chat_id !== null) {
    // A message from someone ends their typing, as on a phone.
    const sender = activity.detail?.sender;
    if (typeof sender === "string") set(activity.chat_id, sender, false, false);
  }
  if (activity.kind === "resync") {
    for (const chat of typing.values()) for (const entry of chat.values()) clearTimeout(entry.timer);
    typing.clear();
    changed();
  }
  if (activity.kind !== "typing" || activity.chat_id === null) return;
  const detail = activity.detail ?? {};
  const handle = String(detail.handle ?? detail.from ?? "");
  const on = detail.display !== undefined ? Boolean(detail.display) : activity.event_type !== "typing_indicator.removed";
  set(activity.chat_id, handle, Boolean(detail.is_me), on);
});

export function clearTyping(chatId: number, handle: string): void {
  set(chatId, handle, false, false);
}

export function useTyping(chatId: number | null): Typist[] {
  const read = () =>
    chatId === null ? [] : [...(typing.get(chatId)?.entries() ?? [])].map(([handle, v]) => ({ handle, isMe: v.isMe }));
  const [typists, setTypists] = useState(read);
  useEffect(() => {
    const update = () => setTypists(read());
    update();
    listeners.add(update);
    return () => void listeners.delete(update);
  }, [chatId]);
  return typists;
}
