import { useEffect, useState } from "preact/hooks";
import { ApiError, EVENT_TYPES, api, type Delivery, type DeliveryAttempt, type EventDetail, type EventSummary, type Subscription } from "../api.ts";
import { clockTime, fullTime, listTime, toLocalInput } from "../format.ts";
import { useActivityRefresh, useLatestRequest } from "../hooks.ts";
import { hrefFor } from "../router.ts";

/** Overall state of an event's deliveries, worst first: what the list shows. */
export function eventState(event: Pick<EventSummary, "status" | "deliveries">): string {
  const statuses = (event.deliveries ?? []).map((d) => d.status);
  if (statuses.length === 0) return event.status || "none";
  if (statuses.includes("failed")) return "failed";
  if (statuses.some((s) => s === "pending" || s === "retrying")) {
    return (event.deliveries ?? []).some((d) => d.attempt_count > 0 && d.status !== "succeeded") ? "retrying" : "pending";
  }
  return "succeeded";
}

const STATE_LABEL: Record<string, string> = {
  succeeded: "Delivered",
  failed: "Failed",
  retrying: "Retrying",
  pending: "Pending",
  none: "No subscriber",
};

export function StateBadge({ state }: { state: string }) {
  return <span class={`badge state-${state}`}>{STATE_LABEL[state] ?? state}</span>;
}

export function EventList() {
  const [type, setType] = useState("");
  const [chatId, setChatId] = useState("");
  const [since, setSince] = useState("");
  const [events, setEvents] = useState<EventSummary[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const latest = useLatestRequest();

  const filters = () => ({
    type: type || undefined,
    chat_id: chatId ? Number(chatId) : undefined,
    since: since ? new Date(since).toISOString() : undefined,
  });
  const load = () =>
    latest(
      api.events({ ...filters(), limit: 100 }),
      (page) => {
        setEvents(page.events);
        setCursor(page.next_cursor);
        setError(null);
      },
      (e) => setError(e instanceof ApiError && e.status === 404 ? "The delivery log is not available on this server." : (e as Error).message),
    );
  useEffect(load, [type, chatId, since]);
  // Every change that emits an event also publishes some activity: refreshing on any keeps the list live.
  useActivityRefresh(() => true, load, 250);

  const more = () => {
    if (!cursor) return;
    api.events({ ...filters(), limit: 100, cursor }).then(
      (page) => {
        setEvents([...(events ?? []), ...page.events]);
        setCursor(page.next_cursor);
      },
      (e: Error) => setError(e.message),
    );
  };

  return (
    <div class="events">
      <div class="events-head">
        <h1>Events</h1>
        <div class="filters">
          <select aria-label="Event type" value={type} onChange={(e) => setType(e.currentTarget.value)}>
            <option value="">All types</option>
            {EVENT_TYPES.map((t) => (
              <option value={t}>{t}</option>
            ))}
          </select>
          <input
            aria-label="Chat id"
            placeholder="Chat id"
            inputMode="numeric"
            value={chatId}
            onInput={(e) => setChatId(e.currentTarget.value.replace(/\D/g, ""))}
          />
          <input
            aria-label="Since"
            type="datetime-local"
            step="1"
            value={since}
            max={toLocalInput(new Date())}
            onInput={(e) => setSince(e.currentTarget.value)}
          />
        </div>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <ul class="event-list">
        {events?.map((event) => {
          const state = eventState(event);
          const attempts = (event.deliveries ?? []).reduce((sum, d) => sum + (d.attempt_count ?? 0), 0);
          return (
            <li>
              <a class={`event-row state-row-${state}`} href={hrefFor({ view: "webhooks", eventId: event.event_id })} data-event-id={event.event_id}>
                <time dateTime={event.created_at} title={fullTime(event.created_at)}>
                  {listTime(event.created_at)} {clockTime(event.created_at)}
                </time>
                <span class="event-type">{event.event_type}</span>
                <span class="muted small">{event.chat_id ? `chat ${event.chat_id}` : ""}</span>
                <span class="event-state">
                  <StateBadge state={state} />
                  {attempts > 0 && <span class="muted small">{attempts} attempt{attempts === 1 ? "" : "s"}</span>}
                </span>
              </a>
            </li>
          );
        })}
      </ul>
      {events && events.length === 0 && <p class="muted list-empty">No events yet: they appear as soon as anything happens.</p>}
      {cursor && (
        <button type="button" class="link-button load-older" onClick={more}>
          Load older events
        </button>
      )}
    </div>
  );
}

export function EventDetailView({ eventId, subscriptions }: { eventId: string; subscriptions: Subscription[] }) {
  const [event, setEvent] = useState<EventDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [resending, setResending] = useState(false);
  const latest = useLatestRequest();
  const load = () =>
    latest(
      api.event(eventId),
      (e) => {
        setEvent(e);
        setError(null);
      },
      (e) => setError((e as Error).message),
    );
  useEffect(load, [eventId]);
  useActivityRefresh(() => true, load, 250);

  const resend = () => {
    setResending(true);
    setNotice(null);
    setError(null);
    api
      .resendEvent(eventId)
      .then(() => {
        setNotice("Queued for delivery again");
        load();
      })
      .catch((e: Error) => setError(e.message))
      .finally(() => setResending(false));
  };

  const urlOf = (delivery: Delivery) =>
    delivery.webhook_url ?? subscriptions.find((s) => s.id === delivery.subscription_id)?.webhook_url ?? `subscription ${delivery.subscription_id}`;

  return (
    <div class="event-detail">
      <a class="back" href={hrefFor({ view: "webhooks", eventId: null })}>
        ‹ Events
      </a>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {event && (
        <>
          <div class="event-detail-head">
            <div>
              <h1>{event.event_type}</h1>
              <p class="muted small">
                <code>{event.event_id}</code> · {fullTime(event.created_at)}
                {event.chat_id ? (
                  <>
                    {" · "}
                    <a href={hrefFor({ view: "chats", chatId: event.chat_id })}>chat {event.chat_id}</a>
                  </>
                ) : null}
              </p>
            </div>
            <div class="event-actions">
              <StateBadge state={eventState(event)} />
              <button type="button" class="primary small" onClick={resend} disabled={resending}>
                {resending ? "Resending…" : "Resend"}
              </button>
            </div>
          </div>
          {notice && (
            <p class="notice" role="status">
              {notice}
            </p>
          )}
          <h2>Payload</h2>
          <pre class="code">{pretty(event.payload)}</pre>
          <h2>Deliveries</h2>
          {(event.deliveries ?? []).length === 0 && <p class="muted">No subscription was listening to this event type.</p>}
          {(event.deliveries ?? []).map((delivery) => (
            <div class={`delivery state-box-${delivery.status}`} data-subscription-id={delivery.subscription_id}>
              <div class="delivery-head">
                <code class="url">{urlOf(delivery)}</code>
                <StateBadge state={delivery.status === "pending" && delivery.attempt_count > 0 ? "retrying" : delivery.status} />
              </div>
              <p class="muted small">
                {delivery.attempt_count} attempt{delivery.attempt_count === 1 ? "" : "s"}
                {delivery.next_attempt_at && delivery.status === "pending" ? ` · next attempt ${fullTime(delivery.next_attempt_at)}` : ""}
              </p>
              <ol class="attempts">
                {(delivery.attempts ?? []).map((attempt) => (
                  <AttemptView attempt={attempt} />
                ))}
              </ol>
            </div>
          ))}
        </>
      )}
    </div>
  );
}

function AttemptView({ attempt }: { attempt: DeliveryAttempt }) {
  const ok = attempt.response_status !== null && attempt.response_status >= 200 && attempt.response_status < 300;
  return (
    <li class={`attempt ${ok ? "attempt-ok" : "attempt-failed"}`} data-attempt={attempt.attempt_number}>
      <details>
        <summary>
          <span class="attempt-number">#{attempt.attempt_number}</span>
          <span class={`badge ${ok ? "state-succeeded" : "state-failed"}`}>
            {attempt.response_status !== null ? `HTTP ${attempt.response_status}` : "No response"}
          </span>
          <span class="muted small">
            {fullTime(attempt.attempted_at)} · {attempt.duration_ms} ms
          </span>
          {attempt.error && <span class="attempt-error">{attempt.error}</span>}
        </summary>
        <div class="attempt-body">
          <h3>Request</h3>
          <pre class="code">{`POST ${attempt.url}\n${headerLines(attempt.request_headers)}\n\n${prettyText(attempt.request_body)}`}</pre>
          <h3>Response</h3>
          <pre class="code">
            {attempt.response_status === null
              ? attempt.error ?? "No response"
              : `HTTP ${attempt.response_status}\n${headerLines(attempt.response_headers)}\n\n${attempt.response_body ?? ""}`}
          </pre>
        </div>
      </details>
    </li>
  );
}

function headerLines(headers: Record<string, string> | string | null | undefined): string {
  if (!headers) return "";
  const parsed = typeof headers === "string" ? (safeParse(headers) as Record<string, string>) : headers;
  if (!parsed || typeof parsed !== "object") return String(headers);
  return Object.entries(parsed)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n");
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function pretty(value: unknown): string {
  if (typeof value === "string") return prettyText(value);
  return JSON.stringify(value, null, 2);
}

function prettyText(text: string): string {
  const parsed = safeParse(text);
  return parsed === undefined ? text : JSON.stringify(parsed, null, 2);
}
