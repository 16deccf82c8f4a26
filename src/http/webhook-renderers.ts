import type { RecordedEvent, WebhookRenderer } from "../core/events/domain-events.ts";
import type { WebhookSubscription } from "../core/model.ts";
import { v2WebhookRenderer } from "./v2/webhook-payloads.ts";
import { v3WebhookRenderer } from "./v3/webhook-payloads.ts";

/**
 * The webhook renderer core gets (wired in src/app.ts): each subscription's own face renders
 * the events it receives.
 */
export function createWebhookRenderer(): WebhookRenderer {
  const faceOf = (subscription: WebhookSubscription): WebhookRenderer =>
    subscription.version === 3 ? v3WebhookRenderer : v2WebhookRenderer;
  return {
    selects: (event: RecordedEvent, subscription) => faceOf(subscription).selects(event, subscription),
    render: (event: RecordedEvent, subscription) => faceOf(subscription).render(event, subscription),
  };
}
