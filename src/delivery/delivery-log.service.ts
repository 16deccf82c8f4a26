import type { Clock, NewDelivery, OutboxSignal, Page, Store } from "../core/ports.ts";
import { DomainError, notFound } from "../core/errors.ts";
import { DOMAIN_EVENT_TYPES, type DomainEventType, type WebhookRenderer } from "../core/events/domain-events.ts";
import type { WebhookEventType, WebhookSubscription } from "../core/model.ts";
import { recordedEventOf } from "../core/webhooks/events.ts";
import type { DeliveryRepository, LoggedEvent, LoggedEventDetail, RequeueOutcome } from "./ports.ts";
import { diagnoseSignature, expectedSignatures, type Diagnosis, type ReceiverComputation } from "./signature-doctor.ts";

/**
 * The delivery log and its two repairs: resend one event, recover a subscription's
 * failures. Everything is scoped to the caller's organization. Changes wake the worker
 * through the same outbox signal core uses.
 */
export interface DeliveryLogDeps {
  deliveries: DeliveryRepository;
  store: Store;
  clock: Clock;
  outbox: OutboxSignal;
  webhooks: WebhookRenderer;
}

export interface EventListInput {
  eventType?: string | undefined;
  chatId?: number | undefined;
  since?: string | undefined;
  page: number;
  perPage: number;
}

function parseInstant(text: string, field: string): Date {
  const at = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(at.getTime())) {
    throw new DomainError("validation_failed", `${field} must be an ISO 8601 date-time, got "${text}"`, { field });
  }
  return at;
}

export async function listEvents(deps: DeliveryLogDeps, orgId: number, input: EventListInput): Promise<Page<LoggedEvent>> {
  if (input.eventType !== undefined && !(DOMAIN_EVENT_TYPES as readonly string[]).includes(input.eventType)) {
    throw new DomainError(
      "validation_failed",
      `unknown event_type "${input.eventType}"; valid: ${DOMAIN_EVENT_TYPES.join(", ")}`,
      { field: "event_type" },
    );
  }
  return deps.deliveries.listEvents(orgId, {
    eventType: input.eventType as DomainEventType | undefined,
    chatId: input.chatId,
    since: input.since === undefined ? undefined : parseInstant(input.since, "since"),
    page: input.page,
    perPage: input.perPage,
  });
}

export async function getEvent(deps: DeliveryLogDeps, orgId: number, eventId: string): Promise<LoggedEventDetail> {
  const event = await deps.deliveries.findEvent(orgId, eventId);
  if (!event) throw notFound("event_not_found", `Event ${eventId} not found`);
  return event;
}

/**
 * Sends an event again with the same body and event_id. To one subscription (any active
 * one of the org, even one created after the event: its face renders the event for it) or,
 * without `subscriptionId`, to every active subscription that gets the event now. A delivery
 * that exists keeps the bytes it was rendered with.
 */
/** A subscription of the org by its integer id (V2) or its UUID (V3). */
function findSubscription(deps: DeliveryLogDeps, orgId: number, id: number | string): Promise<WebhookSubscription | undefined> {
  return typeof id === "number"
    ? deps.store.read.webhookSubscriptions.findById(orgId, id)
    : deps.store.read.webhookSubscriptions.findByUuid(orgId, id);
}

export async function resendEvent(
  deps: DeliveryLogDeps,
  orgId: number,
  eventId: string,
  subscriptionId?: number | string,
): Promise<RequeueOutcome[]> {
  const event = await deps.deliveries.findEvent(orgId, eventId);
  if (!event) throw notFound("event_not_found", `Event ${eventId} not found`);
  let subscriptions: WebhookSubscription[];
  if (subscriptionId !== undefined) {
    const subscription = await findSubscription(deps, orgId, subscriptionId);
    if (!subscription) throw notFound("webhook_subscription_not_found", `Webhook subscription ${subscriptionId} not found`);
    if (!subscription.active) {
      throw new DomainError(
        "validation_failed",
        `Webhook subscription ${subscriptionId} is inactive; set it active before resending to it`,
        { field: "subscription_id" },
      );
    }
    subscriptions = [subscription];
  } else {
    subscriptions = await deps.store.read.webhookSubscriptions.listActive(orgId);
  }
  const targets: NewDelivery[] = [];
  const recorded = event.payloadFormat === "domain" ? recordedEventOf(event) : undefined;
  for (const subscription of subscriptions) {
    if (!recorded) {
      // An event from before domain events: its V2 envelope is all there is.
      if (subscriptionId === undefined && !subscription.events.includes(event.eventType as WebhookEventType)) continue;
      targets.push({ subscriptionId: subscription.id, eventType: event.eventType, body: event.payload });
      continue;
    }
    if (subscriptionId === undefined && !deps.webhooks.selects(recorded, subscription)) continue;
    const rendered = deps.webhooks.render(recorded, subscription);
    if (rendered) targets.push({ subscriptionId: subscription.id, ...rendered });
    else if (subscriptionId !== undefined) {
      throw new DomainError(
        "validation_failed",
        `Webhook subscription ${subscriptionId} has no ${event.eventType} event in its API version`,
        { field: "subscription_id" },
      );
    }
  }
  const outcomes = await deps.deliveries.requeueEvent(orgId, eventId, targets, deps.clock.now());
  if (outcomes.some((o) => o.result === "queued")) deps.outbox.notify();
  return outcomes;
}

/** Starts a new round of attempts for every failed delivery of the subscription since `since`. */
export async function recoverSubscription(
  deps: DeliveryLogDeps,
  orgId: number,
  subscriptionId: number | string,
  since: string,
): Promise<{ requeued: number; since: Date }> {
  const from = parseInstant(since, "since");
  const subscription = await findSubscription(deps, orgId, subscriptionId);
  if (!subscription) throw notFound("webhook_subscription_not_found", `Webhook subscription ${subscriptionId} not found`);
  if (!subscription.active) {
    throw new DomainError(
      "validation_failed",
      `Webhook subscription ${subscriptionId} is inactive; set it active before recovering its deliveries`,
      { field: "webhook_subscription_id" },
    );
  }
  const requeued = await deps.deliveries.requeueFailed(orgId, subscription.id, from, deps.clock.now());
  if (requeued > 0) deps.outbox.notify();
  return { requeued, since: from };
}

export interface SignatureCheckInput {
  eventId: string;
  /** Which attempt to compare with; the newest signed attempt by default. */
  attemptId?: number | undefined;
  receiver: ReceiverComputation;
  /** This machine's clock: timestamps far from it fail receivers' tolerance checks. */
  wallClock: Date;
}

/**
 * Compares what a receiver computed with what openlinq signed in one attempt of an event
 * (see src/delivery/signature-doctor.ts).
 */
export async function checkSignature(
  deps: DeliveryLogDeps,
  orgId: number,
  input: SignatureCheckInput,
): Promise<{ attemptId: number; subscriptionId: number; diagnosis: Diagnosis }> {
  const event = await deps.deliveries.findEvent(orgId, input.eventId);
  if (!event) throw notFound("event_not_found", `Event ${input.eventId} not found`);
  const signed = event.attempts.filter((a) => a.requestHeaders["x-webhook-signature"] !== undefined);
  const attempt =
    input.attemptId === undefined
      ? signed.at(-1)
      : event.attempts.find((a) => a.id === input.attemptId);
  if (!attempt) {
    throw new DomainError(
      "validation_failed",
      input.attemptId === undefined
        ? `Event ${input.eventId} has no signed attempt yet (no delivery to a subscription with a secret)`
        : `Event ${input.eventId} has no attempt ${input.attemptId}`,
      { field: "attempt_id" },
    );
  }
  const subscription = await deps.store.read.webhookSubscriptions.findById(orgId, attempt.subscriptionId);
  if (!subscription?.secret) {
    throw new DomainError(
      "validation_failed",
      `The subscription of attempt ${attempt.id} is gone or has no secret: nothing to compare with`,
      { field: "attempt_id" },
    );
  }
  // A secret changed since the attempt would make every comparison wrong; the headers tell.
  const delivery = { eventId: event.id, body: attempt.requestBody, secret: subscription.secret, headers: attempt.requestHeaders };
  const expected = expectedSignatures(delivery);
  const sent = attempt.requestHeaders["x-webhook-signature"];
  // V2 subscriptions' X-Webhook-Signature is the v2 scheme, V3 subscriptions' the legacy one.
  if (sent !== expected.v2 && sent !== expected.legacy) {
    throw new DomainError(
      "validation_failed",
      `The subscription's secret changed after attempt ${attempt.id}; check a newer attempt`,
      { field: "attempt_id" },
    );
  }
  const receiver = { ...input.receiver };
  const headers = Object.fromEntries(Object.entries(receiver.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  receiver.timestamp ??= headers["webhook-timestamp"] ?? headers["x-webhook-timestamp"];
  receiver.comparedWith ??= headers["webhook-signature"] ?? headers["x-webhook-signature"];
  return {
    attemptId: attempt.id,
    subscriptionId: attempt.subscriptionId,
    diagnosis: diagnoseSignature(delivery, receiver, { wallClock: input.wallClock }),
  };
}
