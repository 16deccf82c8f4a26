import { loadChat } from "../chats/chat-loading.ts";
import { rekeyChat } from "../chats/chat-names.ts";
import { MAX_RECIPIENTS } from "../chats/chats.service.ts";
import type { CoreDeps } from "../deps.ts";
import { DomainError } from "../errors.ts";
import type { ChatHandle, ChatWithHandles, Service } from "../model.ts";
import { normalizeExternalHandle } from "../profiles/profiles.service.ts";
import { chatFacts, handleFacts } from "../events/domain-events.ts";
import { activeParticipant, emitRef, type EventRef } from "./inbound.ts";

export interface ParticipantChange {
  chat: ChatWithHandles;
  added: ChatHandle[];
  removed: ChatHandle[];
  events: EventRef[];
}

/**
 * People join and leave a group chat: participant.added per join, then
 * participant.removed per leave, in the order given. V2 has no endpoint for this: it
 * happens on the phones, and only the webhooks tell. 1:1 chats refuse, and a group keeps at
 * least one other participant. The chat's find-or-create key follows its current members,
 * so creating or finding a chat with the old set no longer reaches it.
 */
export async function changeParticipants(
  deps: CoreDeps,
  orgId: number,
  input: { chatId: number; add?: string[] | undefined; remove?: string[] | undefined },
): Promise<ParticipantChange> {
  const repos = deps.store.read;
  const add: string[] = [];
  for (const [i, handle] of (input.add ?? []).entries()) add.push(await normalizeExternalHandle(repos, orgId, handle, `add[${i}]`));
  const remove: string[] = [];
  for (const [i, handle] of (input.remove ?? []).entries()) {
    remove.push(await normalizeExternalHandle(repos, orgId, handle, `remove[${i}]`));
  }
  if (add.length + remove.length === 0) {
    throw new DomainError("bad_request", "add or remove must list at least one handle", { field: "add" });
  }
  for (const [i, handle] of [...add, ...remove].entries()) {
    if ([...add, ...remove].indexOf(handle) !== i) {
      throw new DomainError("validation_failed", `${handle} is listed more than once`, { field: add.includes(handle) ? "add" : "remove" });
    }
  }
  const services = new Map<string, Service>();
  for (const handle of add) services.set(handle, await deps.transport.serviceFor(orgId, [handle]));

  const result = await deps.store.transaction(async (tx) => {
    const chat = await loadChat(tx, orgId, input.chatId);
    if (!chat.chat.isGroup) {
      throw new DomainError("validation_failed", `chat ${chat.chat.id} is a 1:1 chat; participants change only in group chats`, {
        field: "chat_id",
      });
    }
    const active = new Set(chat.handles.filter((h) => !h.isMe && h.leftAt === null).map((h) => h.handle));
    add.forEach((handle, i) => {
      if (active.has(handle)) {
        throw new DomainError("validation_failed", `add[${i}]: ${handle} is already in chat ${chat.chat.id}`, { field: `add[${i}]` });
      }
    });
    const leaving = remove.map((handle, i) => activeParticipant(chat, handle, `remove[${i}]`));
    const remaining = active.size + add.length - remove.length;
    if (remaining < 1) {
      throw new DomainError("validation_failed", "a group chat keeps at least one participant besides your number", { field: "remove" });
    }
    if (remaining > MAX_RECIPIENTS) {
      throw new DomainError("validation_failed", `a chat has at most ${MAX_RECIPIENTS} participants besides your number`, { field: "add" });
    }
    const now = deps.clock.now();
    const events: EventRef[] = [];
    const added: ChatHandle[] = [];
    for (const handle of add) {
      const joined = await tx.chats.addHandle(chat.chat.id, { handle, service: services.get(handle)!, isMe: false }, now);
      chat.handles.push(joined);
      added.push(joined);
      const event = { type: "participant.added", chat: chatFacts(chat), handle: handleFacts(chat, joined), at: now.toISOString() } as const;
      events.push(await emitRef(tx, deps, orgId, event, chat.chat.id));
    }
    for (const participant of leaving) {
      await tx.chats.markHandleLeft(participant.id, now);
      participant.leftAt = now;
      await tx.deviceSignals.remove(chat.chat.id, participant.handle, "their_typing");
      const event = { type: "participant.removed", chat: chatFacts(chat), handle: handleFacts(chat, participant), at: now.toISOString() } as const;
      events.push(await emitRef(tx, deps, orgId, event, chat.chat.id));
    }
    await rekeyChat(tx, chat);
    return { chat, added, removed: leaving, events };
  });
  deps.activity.publish({ orgId, kind: "chat", chatId: input.chatId });
  return result;
}
