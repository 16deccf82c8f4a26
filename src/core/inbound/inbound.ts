import type { CoreDeps } from "../deps.ts";
import { DomainError } from "../errors.ts";
import type { DomainEvent, DomainEventType } from "../events/domain-events.ts";
import type { ChatHandle, ChatWithHandles } from "../model.ts";
import type { Repositories } from "../ports.ts";
import { emitEvent } from "../webhooks/events.ts";

/**
 * Shared pieces of the inbound services: what the other side of a conversation does
 * (writes, reacts, types, reads, joins and leaves) and what happens to our messages on
 * their way (delivered, failed). The simulator and the /openlinq/v1/simulate routes call
 * these; each validates, then writes and emits its events in one transaction.
 */

/** An event a service emitted, so callers (and tests) can find it again. */
export interface EventRef {
  id: string;
  type: DomainEventType;
}

export async function emitRef(
  tx: Repositories,
  deps: CoreDeps,
  orgId: number,
  event: DomainEvent,
  chatId: number,
): Promise<EventRef> {
  const emitted = await emitEvent(tx, deps, orgId, event, chatId);
  return { id: emitted.id, type: event.type };
}

/** The chat's current participant with this handle (not us), or validation_failed naming the field. */
export function activeParticipant(chat: ChatWithHandles, handle: string, field: string): ChatHandle {
  const participant = chat.handles.find((h) => h.handle === handle && !h.isMe && h.leftAt === null);
  if (!participant) {
    throw new DomainError("validation_failed", `${field}: ${handle} is not a participant of chat ${chat.chat.id}`, {
      field,
    });
  }
  return participant;
}

/** Typing indicators and read receipts need iMessage or RCS. */
export function requireRichService(chat: ChatWithHandles, what: string): void {
  if (chat.chat.service === "SMS") {
    throw new DomainError("validation_failed", `chat ${chat.chat.id} uses SMS, which carries no ${what}`, {
      field: "chat_id",
    });
  }
}
