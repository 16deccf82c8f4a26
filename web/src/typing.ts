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
/** Our side types as one, whichever number. */
const OURS = "(us)";
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
  if (activity.kind === "resync") {
    for (const chat of typing.values()) for (const entry of chat.values()) clearTimeout(entry.timer);
    typing.clear();
    changed();
  }
  if (activity.kind !== "typing" || activity.chat_id === null) return;
  const detail = activity.detail ?? {};
  const on = Boolean(detail.display);
  // Ours: the simulated devices show our bubble (`our_typing`); theirs: a participant types to us.
  if (detail.side === "ours") {
    if (detail.signal === undefined || detail.signal === "our_typing") set(activity.chat_id, OURS, true, on);
    return;
  }
  if (typeof detail.handle === "string") set(activity.chat_id, detail.handle, false, on);
});

/** What the server says is showing now (a page opened while someone types). */
export function seedTyping(chatId: number, typists: { handle: string; is_me: boolean }[]): void {
  for (const t of typists) set(chatId, t.is_me ? OURS : t.handle, t.is_me, true);
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
