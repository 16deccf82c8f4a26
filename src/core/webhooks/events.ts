import type { DomainEvent, RecordedEvent, WebhookRenderer } from "../events/domain-events.ts";
import type { Clock, Ids, NewDelivery, Repositories } from "../ports.ts";
import { WEBHOOK_SCENARIO_KINDS, type DeliveryScenario } from "../scenarios/delivery-scenario.ts";

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
  options: { scenarioId?: number } = {},
): Promise<EmittedEvent> {
  const recorded: RecordedEvent = { id: deps.ids.uuid(), orgId, createdAt: deps.clock.now(), event };
  let deliveries: NewDelivery[] = [];
  for (const subscription of await tx.webhookSubscriptions.listActive(orgId)) {
    if (!deps.webhooks.selects(recorded, subscription)) continue;
    const rendered = deps.webhooks.render(recorded, subscription);
    if (rendered) deliveries.push({ subscriptionId: subscription.id, ...rendered });
  }
  // A webhook scenario armed for the chat shapes its next event that goes anywhere.
  if (chatId !== null && deliveries.length > 0) {
    const scenario = await tx.deliveryScenarios.nextArmed(chatId, WEBHOOK_SCENARIO_KINDS);
    if (scenario) {
      deliveries = shapeDeliveries(scenario, deliveries, recorded.createdAt);
      await tx.deliveryScenarios.recordApplied(scenario.id, { eventIds: [recorded.id] }, recorded.createdAt);
    }
  }
  await tx.events.append(
    {
      id: recorded.id,
      orgId,
      eventType: event.type,
      chatId,
      payload: JSON.stringify(event),
      createdAt: recorded.createdAt,
      scenarioId: options.scenarioId ?? null,
    },
    deliveries,
  );
  return { id: recorded.id, deliveries: deliveries.length };
}

/**
 * What a webhook scenario does to an event's deliveries: a duplicate is a second delivery of
 * the same bytes (same event id) right after the first; a delayed event goes out `delayMs`
 * late and the chat's later events wait behind it (order kept); an event held out of order
 * goes out `delayMs` late while the chat's later events go on without it.
 */
function shapeDeliveries(scenario: DeliveryScenario, deliveries: readonly NewDelivery[], createdAt: Date): NewDelivery[] {
  const later = new Date(createdAt.getTime() + scenario.delayMs);
  const scenarioId = scenario.id;
  switch (scenario.kind) {
    case "duplicate_delivery":
      return deliveries.flatMap((d) => [
        { ...d, scenarioId },
        { ...d, scenarioId },
      ]);
    case "delayed_delivery":
      return deliveries.map((d) => ({ ...d, dueAt: later, scenarioId }));
    case "out_of_order":
      return deliveries.map((d) => ({ ...d, dueAt: later, ordered: false, scenarioId }));
    default:
      return [...deliveries];
  }
}

/** A stored domain event (`StoredEvent.payload`) read back for rendering. */
export function recordedEventOf(stored: { id: string; orgId: number; createdAt: Date; payload: string }): RecordedEvent {
  return { id: stored.id, orgId: stored.orgId, createdAt: stored.createdAt, event: JSON.parse(stored.payload) as DomainEvent };
}
