import { DomainError, notFound } from "../core/errors.ts";
import type { WebhookRenderer } from "../core/events/domain-events.ts";
import type { WebhookSubscription } from "../core/model.ts";
import type { Clock, Ids } from "../core/ports.ts";
import { recordedEventOf } from "../core/webhooks/events.ts";
import type { EventListener, ListenerRepository, PositionedEvent } from "./ports.ts";
import { deliveryHeaders } from "./signer.ts";

/**
 * `openlinq listen`: an organization's events streamed to a named listener that forwards
 * them to local URLs. The server keeps the listener's cursor (the last position it
 * acknowledged); a stream starts after it, so a listener that stops, crashes or loses its
 * connection resumes where it left off and misses nothing. It acknowledges only after the
 * local answer: an event forwarded but not yet acknowledged when a listener dies is sent
 * again by the next stream (at least once, like webhooks).
 *
 * Each event carries exactly what a subscription of the chosen API version (2 or 3) gets: the
 * bytes its face renders and the signature headers, signed with the listener's own secret.
 */
export interface ListenerDeps {
  listeners: ListenerRepository;
  clock: Clock;
  ids: Ids;
  webhooks: WebhookRenderer;
  /** The event types each face's subscriptions can ask for, as that face names them. */
  eventTypes: Readonly<Record<ListenerApiVersion, readonly string[]>>;
}

/** The face whose payloads and signatures a stream carries. */
export type ListenerApiVersion = 2 | 3;

/** What a stream carries: a face, and for V3 the payload version a subscription names with `?version=`. */
export interface ListenerFormat {
  version: ListenerApiVersion;
  /** Default: the face's default payload version. */
  payloadVersion?: string | undefined;
}

/** Names as they appear on a command line and in a URL path. */
const LISTENER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function checkName(name: string): void {
  if (!LISTENER_NAME.test(name)) {
    throw new DomainError(
      "validation_failed",
      `listener name "${name}" must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit`,
      { field: "name" },
    );
  }
}

export interface OpenedListener {
  listener: EventListener;
  created: boolean;
  /** The newest position so far: how far behind the listener starts. */
  lastPosition: number;
}

/**
 * Creates the listener (its stream starts with the next event) or finds it (its stream resumes
 * after its cursor). `replaySince` moves the cursor to the first event created at or after it.
 */
export async function openListener(
  deps: ListenerDeps,
  orgId: number,
  name: string,
  options: { replaySince?: Date | undefined } = {},
): Promise<OpenedListener> {
  checkName(name);
  const now = deps.clock.now();
  let { listener, created } = await deps.listeners.open(orgId, name, generatedSecret(deps.ids), now);
  if (options.replaySince !== undefined) {
    listener = (await deps.listeners.rewind(orgId, name, options.replaySince, now)) ?? listener;
  }
  return { listener, created, lastPosition: await deps.listeners.lastPosition() };
}

export async function findListener(deps: ListenerDeps, orgId: number, name: string): Promise<EventListener> {
  checkName(name);
  const listener = await deps.listeners.find(orgId, name);
  if (!listener) throw notFound("listener_not_found", `Listener "${name}" not found; PUT /openlinq/v1/listeners/${name} creates it`);
  return listener;
}

export async function deleteListener(deps: ListenerDeps, orgId: number, name: string): Promise<void> {
  checkName(name);
  if (!(await deps.listeners.delete(orgId, name))) throw notFound("listener_not_found", `Listener "${name}" not found`);
}

/** Moves the cursor forward to `position`: every event up to it was handled (or filtered out). */
export async function acknowledgeEvents(deps: ListenerDeps, orgId: number, name: string, position: number): Promise<EventListener> {
  checkName(name);
  const { listener, beyondNewest } = await deps.listeners.acknowledge(orgId, name, position, deps.clock.now());
  if (!listener) throw notFound("listener_not_found", `Listener "${name}" not found`);
  if (beyondNewest) {
    throw new DomainError("validation_failed", `position ${position} is past the newest event; acknowledge positions the stream sent`, {
      field: "position",
    });
  }
  return listener;
}

/**
 * `message.received`, `reaction.*`, `*`: which event types a stream carries. Each pattern
 * must name at least one event type, so a typo is an error rather than silence.
 */
export function parseEventFilter(patterns: readonly string[], known: readonly string[]): (eventType: string) => boolean {
  const matchers = patterns.map((pattern) => {
    const matches = pattern === "*" ? () => true : pattern.endsWith(".*")
      ? (type: string) => type.startsWith(pattern.slice(0, -1))
      : (type: string) => type === pattern;
    if (!known.some(matches)) {
      throw new DomainError("validation_failed", `events: "${pattern}" matches no event type; valid: ${known.join(", ")} (a trailing .* matches a family)`, {
        field: "events",
      });
    }
    return matches;
  });
  return matchers.length === 0 ? () => true : (type) => matchers.some((matches) => matches(type));
}

/** One event as the listener forwards it: the exact bytes and headers to POST. */
export interface ForwardableEvent {
  position: number;
  eventId: string;
  eventType: string;
  chatId: number | null;
  createdAt: Date;
  headers: Record<string, string>;
  body: string;
}

export interface StreamBatch {
  events: ForwardableEvent[];
  /** Position of the last event looked at (sent or filtered out); the start of the next batch. */
  scannedTo: number;
}

/**
 * The next events after `after` that the listener gets, rendered and signed now. Events the
 * face has no payload for, and those the filter leaves out, are skipped (`scannedTo` passes them).
 */
export async function nextEvents(
  deps: ListenerDeps,
  listener: EventListener,
  format: ListenerFormat,
  after: number,
  accepts: (eventType: string) => boolean,
  limit: number,
): Promise<StreamBatch> {
  const rows = await deps.listeners.eventsAfter(listener.orgId, after, limit);
  const { version } = format;
  const subscription = listenerSubscription(listener, format, deps.eventTypes[version]);
  const at = deps.clock.now();
  const events: ForwardableEvent[] = [];
  for (const row of rows) {
    const rendered = render(deps.webhooks, row, subscription);
    if (!rendered || !accepts(rendered.eventType)) continue;
    events.push({
      position: row.position,
      eventId: row.id,
      eventType: rendered.eventType,
      chatId: row.chatId,
      createdAt: row.createdAt,
      body: rendered.body,
      headers: deliveryHeaders({
        eventId: row.id,
        eventType: rendered.eventType,
        subscriptionId: listener.id,
        subscriptionUuid: subscription.uuid,
        version,
        secret: listener.secret,
        body: rendered.body,
        at,
      }),
    });
  }
  return { events, scannedTo: rows.at(-1)?.position ?? after };
}

function render(webhooks: WebhookRenderer, row: PositionedEvent, subscription: WebhookSubscription) {
  // Events from before domain events kept their V2 envelope: sent as they always were.
  if (row.payloadFormat === "v2-envelope") return { eventType: row.eventType, body: row.payload };
  const recorded = recordedEventOf(row);
  return webhooks.selects(recorded, subscription) ? webhooks.render(recorded, subscription) : undefined;
}

/**
 * The listener seen as a subscription of that face to every event type, on every line:
 * rendering and selection go through the same face code as real subscriptions, so the bytes
 * are the same. Its target URL carries the payload version as `?version=`, as a V3
 * subscription's does (none: the face's default).
 */
function listenerSubscription(listener: EventListener, format: ListenerFormat, events: readonly string[]): WebhookSubscription {
  const query = format.payloadVersion === undefined ? "" : `?${new URLSearchParams({ version: format.payloadVersion })}`;
  return {
    id: listener.id,
    // What V3's X-Webhook-Subscription-ID carries for a listener.
    uuid: `listener:${listener.name}`,
    orgId: listener.orgId,
    webhookUrl: `openlinq-listener:${encodeURIComponent(listener.name)}${query}`,
    version: format.version,
    events: [...events],
    active: true,
    secret: listener.secret,
    phoneNumbers: null,
    deliveryAttempts: 0,
    lastDeliveredAt: null,
    createdAt: listener.createdAt,
    updatedAt: listener.updatedAt,
  };
}

/** The Standard Webhooks secret format, as subscriptions' generated secrets have. */
function generatedSecret(ids: Ids): string {
  return `whsec_${Buffer.from(ids.secret(24), "base64url").toString("base64")}`;
}
