import type { CoreDeps } from "../deps.ts";
import type { Message } from "../model.ts";

export type DeliveryOutcome = { status: "delivered"; at: Date } | { status: "service_unavailable" };

/**
 * Our pending message reached the recipient, or could not. V2 has no event for either
 * (Linq's V2 reference): only delivery_status and delivered_at change. A message that is no longer
 * pending (or was deleted) is left as it is; returns the updated message otherwise.
 */
export async function recordDeliveryOutcome(
  deps: CoreDeps,
  orgId: number,
  messageId: number,
  outcome: DeliveryOutcome,
): Promise<Message | undefined> {
  const updated = await deps.store.transaction(async (tx) => {
    const message = await tx.messages.findById(orgId, messageId);
    if (!message || !message.isFromMe || message.deliveryStatus !== "pending") return undefined;
    const deliveredAt = outcome.status === "delivered" ? outcome.at : null;
    await tx.messages.updateDelivery(message.id, outcome.status, deliveredAt);
    return { ...message, deliveryStatus: outcome.status, deliveredAt };
  });
  if (updated) deps.activity.publish({ orgId, kind: "message", chatId: updated.chatId, messageId });
  return updated;
}
