import { loadChat, loadMessageDetails } from "../chats/chat-loading.ts";
import type { CoreDeps } from "../deps.ts";
import { chatFacts, messageFacts } from "../events/domain-events.ts";
import type { ChatWithHandles, Message, MessageDetails } from "../model.ts";
import type { DeliveryOutcome, Repositories } from "../ports.ts";
import { emitEvent } from "../webhooks/events.ts";

/**
 * Moves a pending message of ours to its outcome inside `tx`, with its event:
 * `message.delivered`, or `message.failed`. A message no longer pending is left as it is (a
 * receipt that comes twice changes nothing, and emits nothing). Returns the updated message.
 * `loaded`: the message's chat and details as the caller already holds them (the send that
 * just wrote them); the event then takes the chat, attachments and reactions from there
 * and the message from `message`, instead of reading them again.
 */
export async function applyDeliveryOutcome(
  tx: Repositories,
  deps: CoreDeps,
  message: Message,
  outcome: DeliveryOutcome,
  loaded?: { chat: ChatWithHandles; details: MessageDetails },
): Promise<Message | undefined> {
  if (!message.isFromMe || message.deliveryStatus !== "pending") return undefined;
  const deliveredAt = outcome.status === "delivered" ? outcome.at : null;
  await tx.messages.updateDelivery(message.id, outcome.status, deliveredAt);
  const updated: Message = { ...message, deliveryStatus: outcome.status, deliveredAt };
  await emitDeliveryOutcome(tx, deps, updated, outcome, loaded);
  return updated;
}

/**
 * The event of a delivery outcome already stored on `message` (`message.delivered` or
 * `message.failed`), inside `tx`; `loaded` as for applyDeliveryOutcome.
 */
export async function emitDeliveryOutcome(
  tx: Repositories,
  deps: CoreDeps,
  message: Message,
  outcome: DeliveryOutcome,
  loaded?: { chat: ChatWithHandles; details: MessageDetails },
): Promise<void> {
  const chat = loaded?.chat ?? (await loadChat(tx, message.orgId, message.chatId));
  const details = loaded ? { ...loaded.details, message } : (await loadMessageDetails(tx, [message], chat.handles))[0]!;
  const facts = { chat: chatFacts(chat), message: messageFacts(details, deps.links) };
  const event =
    outcome.status === "delivered"
      ? ({ type: "message.delivered", ...facts } as const)
      : ({ type: "message.failed", ...facts, failure: outcome.status, at: deps.clock.now().toISOString() } as const);
  await emitEvent(tx, deps, message.orgId, event, message.chatId);
}

/**
 * The carrier reports that our message reached the recipient, or could not; the message is
 * found by the carrier's id. V2 has no event for either: only delivery_status and
 * delivered_at change. An unknown id (deleted message, or a receipt for another system) is
 * ignored; returns the updated message otherwise.
 */
export async function recordDeliveryReceipt(
  deps: CoreDeps,
  orgId: number,
  carrierMessageId: string,
  outcome: DeliveryOutcome,
): Promise<Message | undefined> {
  const updated = await deps.store.transaction(async (tx) => {
    const message = await tx.messages.findByCarrierId(orgId, carrierMessageId);
    return message && applyDeliveryOutcome(tx, deps, message, outcome);
  });
  if (updated) deps.activity.publish({ orgId, kind: "message", chatId: updated.chatId, messageId: updated.id });
  return updated;
}
