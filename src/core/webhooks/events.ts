import type { Clock, Ids, Repositories } from "../ports.ts";
import type { WebhookEventType } from "../model.ts";
import { isoSeconds } from "../time.ts";
import { canonicalJson } from "./canonical-json.ts";

/**
 * The one place events are emitted. Called inside the transaction of the change that
 * caused the event, so the outbox row commits with it or not at all (never lost, never
 * emitted for a rolled-back change). Fans out to one delivery per active subscription
 * listening to the type.
 *
 * The envelope is a superset of the reference (`api_version`, `event_type`, `event_id`,
 * `created_at`, `data`) and the seed (`event`, `timestamp`).
 */
export interface EmittedEvent {
  id: string;
  deliveries: number;
}

export async function emitEvent(
  tx: Repositories,
  deps: { clock: Clock; ids: Ids },
  orgId: number,
  eventType: WebhookEventType,
  data: Record<string, unknown>,
  chatId: number | null = null,
): Promise<EmittedEvent> {
  const now = deps.clock.now();
  const id = deps.ids.uuid();
  const envelope = {
    api_version: "v2",
    event_type: eventType,
    event_id: id,
    created_at: isoSeconds(now),
    data,
    event: eventType,
    timestamp: isoSeconds(now),
  };
  const subscriptions = await tx.webhookSubscriptions.listActiveFor(orgId, eventType);
  await tx.events.append(
    { id, orgId, eventType, chatId, payload: canonicalJson(envelope), createdAt: now },
    subscriptions.map((s) => s.id),
  );
  return { id, deliveries: subscriptions.length };
}
