import type { DomainEvent, RecordedEvent, WebhookRenderer } from "../events/domain-events.ts";
import type { Clock, Ids, Repositories } from "../ports.ts";

/**
 * The one place events are emitted. Called inside the transaction of the change that
 * caused the event, so the outbox rows commit with it or not at all (never lost, never
 * emitted for a rolled-back change).
 *
 * The event is stored as the domain event (JSON); each active subscription's face renders
 * its bytes here, once, and they are stored with the delivery: every retry sends exactly
 * these bytes, and a later change to a chat never alters an event already emitted.
 */
export interface EmittedEvent {
  id: string;
  deliveries: number;
}

export async function emitEvent(
  tx: Repositories,
  deps: { clock: Clock; ids: Ids; webhooks: WebhookRenderer },
  orgId: number,
  event: DomainEvent,
  chatId: number | null = null,
): Promise<EmittedEvent> {
  const recorded: RecordedEvent = { id: deps.ids.uuid(), orgId, createdAt: deps.clock.now(), event };
  const deliveries = [];
  for (const subscription of await tx.webhookSubscriptions.listActive(orgId)) {
    if (!deps.webhooks.selects(recorded, subscription)) continue;
    const rendered = deps.webhooks.render(recorded, subscription);
    if (rendered) deliveries.push({ subscriptionId: subscription.id, ...rendered });
  }
  await tx.events.append(
    {
      id: recorded.id,
      orgId,
      eventType: event.type,
      chatId,
      payload: JSON.stringify(event),
      createdAt: recorded.createdAt,
    },
    deliveries,
  );
  return { id: recorded.id, deliveries: deliveries.length };
}

/** A stored domain event (`StoredEvent.payload`) read back for rendering. */
export function recordedEventOf(stored: { id: string; orgId: number; createdAt: Date; payload: string }): RecordedEvent {
  return { id: stored.id, orgId: stored.orgId, createdAt: stored.createdAt, event: JSON.parse(stored.payload) as DomainEvent };
}
