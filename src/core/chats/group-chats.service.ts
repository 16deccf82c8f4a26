import type { CoreDeps } from "../deps.ts";
import { DomainError } from "../errors.ts";
import type { ChatParticipants, ChatWithHandles } from "../model.ts";
import type { Repositories } from "../ports.ts";
import { emitEvent } from "../webhooks/events.ts";
import { chatFacts, handleFacts, type DomainEvent } from "../events/domain-events.ts";
import { activeParticipant, emitRef, type EventRef } from "../inbound/inbound.ts";
import { normalizeExternalHandle } from "../handles.ts";
import { loadChat } from "./chat-loading.ts";
import { otherParticipants, ourHandle } from "./chat-names.ts";

/** A group we left answers chat_unavailable to everything that would act in it. */
export function requireActiveChat<C extends ChatParticipants>(chat: C): C {
  if (ourHandle(chat).leftAt !== null) {
    throw new DomainError("chat_unavailable", "You left this chat; it is no longer available");
  }
  return chat;
}

function requireGroup(chat: ChatWithHandles, what: string): void {
  if (!chat.chat.isGroup) {
    throw new DomainError("direct_chat_not_supported", `${what} is only possible in group chats, not in direct chats`);
  }
}

export interface GroupChatChanges {
  displayName?: string | undefined;
  groupChatIcon?: string | undefined;
  /** A participant who changes it (phone number or email); our line when absent. */
  from?: string | undefined;
}

/**
 * Renames a group chat or sets its icon (direct chats have neither), with
 * chat.group_name_updated / chat.group_icon_updated for what changed, naming who changed it.
 * When we change an SMS group the change fails (chat.group_*_update_failed) and nothing
 * changes; a participant of an SMS group cannot change it at all (validation_failed on `from`).
 */
export async function updateGroupChat(
  deps: CoreDeps,
  orgId: number,
  chatId: number,
  changes: GroupChatChanges,
): Promise<{ chat: ChatWithHandles; events: EventRef[] }> {
  if (changes.displayName !== undefined && changes.displayName.trim() === "") {
    throw new DomainError("validation_failed", "displayName must not be empty", {
      field: "displayName",
      reason: " must not be empty",
    });
  }
  if (changes.groupChatIcon !== undefined && !/^https?:\/\/\S+$/.test(changes.groupChatIcon)) {
    throw new DomainError("validation_failed", "groupChatIcon must be an http(s) URL", {
      field: "groupChatIcon",
      reason: " must be an http(s) URL",
    });
  }
  const from = changes.from === undefined ? undefined : await normalizeExternalHandle(deps.store.read, orgId, changes.from, "from");
  const result = await deps.store.transaction(async (tx) => {
    const chat = requireActiveChat(await loadChat(tx, orgId, chatId));
    requireGroup(chat, "Changing the name or icon");
    const changer = from === undefined ? ourHandle(chat) : activeParticipant(chat, from, "from");
    const events: EventRef[] = [];
    const emit = async (event: DomainEvent) => events.push(await emitRef(tx, deps, orgId, event, chatId));
    const now = deps.clock.now();
    const at = now.toISOString();
    const name = changes.displayName?.trim();
    if (chat.chat.service === "SMS") {
      if (!changer.isMe) {
        throw new DomainError("validation_failed", "from: an SMS group has no name or icon to change", { field: "from" });
      }
      // An SMS/MMS group has no name or icon on the recipients' side: the change is accepted
      // (it is carried out asynchronously) and then fails, leaving the chat as it was.
      const facts = chatFacts(chat);
      const failure = "service_not_supported" as const;
      if (name !== undefined) await emit({ type: "chat.group_name_update_failed", chat: facts, failure, at });
      if (changes.groupChatIcon !== undefined) await emit({ type: "chat.group_icon_update_failed", chat: facts, failure, at });
      return { chat, events };
    }
    await tx.chats.updateGroup(chatId, { displayName: name, groupChatIcon: changes.groupChatIcon }, now);
    const updated = await loadChat(tx, orgId, chatId);
    const facts = chatFacts(updated);
    const changedBy = handleFacts(updated, changer);
    if (name !== undefined && name !== chat.chat.displayName) {
      await emit({ type: "chat.group_name_updated", chat: facts, previous: chat.chat.displayName, current: name, changedBy, at });
    }
    if (changes.groupChatIcon !== undefined && changes.groupChatIcon !== chat.chat.groupChatIcon) {
      const previous = chat.chat.groupChatIcon;
      await emit({ type: "chat.group_icon_updated", chat: facts, previous, current: changes.groupChatIcon, changedBy, at });
    }
    return { chat: updated, events };
  });
  deps.activity.publish({ orgId, kind: "chat", chatId });
  return result;
}

/**
 * Our number leaves a group chat: its handle is marked left and participant.removed fires.
 * Afterwards the chat is unavailable (requireActiveChat). Only groups of at least three
 * other participants can be left, so the rest stays a group.
 */
export async function leaveChat(deps: CoreDeps, orgId: number, chatId: number): Promise<ChatWithHandles> {
  const chat = await deps.store.transaction(async (tx: Repositories) => {
    const chat = requireActiveChat(await loadChat(tx, orgId, chatId));
    requireGroup(chat, "Leaving");
    if (otherParticipants(chat).length < 3) {
      throw new DomainError(
        "conflict",
        "A group chat can be left only while it has at least 4 active participants, your number included",
      );
    }
    const now = deps.clock.now();
    const mine = ourHandle(chat);
    await tx.chats.markHandleLeft(mine.id, now);
    mine.leftAt = now;
    const event = { type: "participant.removed", chat: chatFacts(chat), handle: handleFacts(chat, mine), at: now.toISOString() } as const;
    await emitEvent(tx, deps, orgId, event, chat.chat.id);
    return chat;
  });
  deps.activity.publish({ orgId, kind: "chat", chatId });
  return chat;
}
