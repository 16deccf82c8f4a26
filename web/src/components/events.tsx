import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, EVENT_TYPES, api, type Delivery, type DeliveryAttempt, type EventDetail, type EventSummary, type SignatureCheck, type Subscription } from "../api.ts";
import { eventTime, fullTime, toLocalInput } from "../format.ts";
import { useActivityRefresh, useDueRefresh, useLatestRequest } from "../hooks.ts";
import { hrefFor } from "../router.ts";
import { Feedback } from "./feedback.tsx";

/** A delivery as a person reads it: pending after a failed attempt is "retrying". */
export function deliveryState(delivery: Pick<Delivery, "status" | "attempt_count">): string {
  if (delivery.status === "pending" && delivery.attempt_count > 0) return "retrying";
  return delivery.status;
}

/** Overall state of an event's deliveries, worst first: what the list shows. */
export function eventState(event: Pick<EventSummary, "deliveries">): string {
  const states = event.deliveries.map(deliveryState);
  if (states.length === 0) return "none";
  for (const state of ["failed", "retrying", "pending"]) if (states.includes(state)) return state;
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

const PAGE_SIZE = 50;
const NO_DELIVERIES: Delivery[] = [];

export function EventList() {
  const [type, setType] = useState("");
  const [chatId, setChatId] = useState("");
  const [since, setSince] = useState("");
  const [events, setEvents] = useState<EventSummary[] | null>(null);
  const [loadedPages, setLoadedPages] = useState(1);
  const [totalPages, setTotalPages] = useState(1);
  const [error, setError] = useState<string | null>(null);
  const latest = useLatestRequest();

  const filters = () => ({
    event_type: type || undefined,
    chat_id: chatId ? Number(chatId) : undefined,
    since: since ? new Date(since).toISOString() : undefined,
  });
  const fail = (e: unknown) =>
    setError(e instanceof ApiError && e.status === 404 ? "The delivery log is not available on this server." : (e as Error).message);

  /** Reloads the newest page; older pages already shown stay below it. */
  const load = (reset = false) =>
    latest(
      api.events({ ...filters(), page: 1, per_page: PAGE_SIZE }),
      (page) => {
        setEvents((previous) => {
          if (reset || !previous) return page.events;
          const fresh = new Set(page.events.map((e) => e.id));
          const oldest = page.events[page.events.length - 1]?.created_at ?? "";
          return [...page.events, ...previous.filter((e) => !fresh.has(e.id) && e.created_at <= oldest)];
        });
        setTotalPages(page.pagination.total_pages);
        setError(null);
      },
      fail,
    );
  useEffect(() => {
    setLoadedPages(1);
    load(true);
  }, [type, chatId, since]);
  // Every change that emits an event also publishes some activity: refreshing on any keeps the list live.
  useActivityRefresh(() => true, () => load(), 250);
  const shownDeliveries = useMemo(() => (events ?? []).slice(0, PAGE_SIZE).flatMap((e) => e.deliveries), [events]);
  useDueRefresh(shownDeliveries, () => load());

  const more = () => {
    const next = loadedPages + 1;
    api.events({ ...filters(), page: next, per_page: PAGE_SIZE }).then((page) => {
      setLoadedPages(next);
      setTotalPages(page.pagination.total_pages);
      setEvents((previous) => {
        const known = new Set((previous ?? []).map((e) => e.id));
        return [...(previous ?? []), ...page.events.filter((e) => !known.has(e.id))];
      });
    }, fail);
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
          const attempts = event.deliveries.reduce((sum, d) => sum + d.attempt_count, 0);
          return (
            <li key={event.id}>
              <a class={`event-row state-row-${state}`} href={hrefFor({ view: "webhooks", eventId: event.id })} data-event-id={event.id}>
                <time dateTime={event.created_at} title={fullTime(event.created_at)}>
                  {eventTime(event.created_at)}
                </time>
                <span class="event-type">{event.event_type}</span>
                <span class="muted small">
                  {event.chat_id ? `chat ${event.chat_id}` : ""}
                  {scenarioOf(event) !== null && <span class="scenario-badge">scenario #{scenarioOf(event)}</span>}
                </span>
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
      {events && loadedPages < totalPages && (
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
  // Attempts publish no activity of their own everywhere; any activity is a cheap cue to look again.
  useActivityRefresh(() => true, load, 250);
  useDueRefresh(event?.deliveries ?? NO_DELIVERIES, load);

  const resend = (subscriptionId?: number) => {
    setResending(true);
    setNotice(null);
    setError(null);
    api
      .resendEvent(eventId, subscriptionId)
      .then((result) => {
        const queued = result.deliveries.filter((d) => d.result === "queued").length;
        setNotice(
          result.deliveries.length === 0
            ? "No active subscription listens to this event type now."
            : `Queued again for ${queued || result.deliveries.length} subscription${(queued || result.deliveries.length) === 1 ? "" : "s"}`,
        );
        load();
      })
      .catch((e: Error) => setError(e.message))
      .finally(() => setResending(false));
  };

  const urlOf = (delivery: Delivery) =>
    delivery.webhook_url || subscriptions.find((s) => s.id === delivery.subscription_id)?.webhook_url || `subscription ${delivery.subscription_id}`;

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
                <code>{event.id}</code> · {fullTime(event.created_at)}
                {event.scenario_id !== null && <> · injected by delivery scenario #{event.scenario_id}</>}
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
              <button type="button" class="primary small" onClick={() => resend()} disabled={resending}>
                {resending ? "Resending…" : "Resend"}
              </button>
            </div>
          </div>
          {notice && (
            <p class="notice" role="status">
              {notice}
            </p>
          )}
          <h2>Deliveries</h2>
          {event.deliveries.length === 0 && <p class="muted">No subscription was listening to this event type.</p>}
          {event.deliveries.map((delivery) => {
            const state = deliveryState(delivery);
            const attempts = event.attempts.filter((a) => a.delivery_id === delivery.id);
            return (
              <div class={`delivery state-box-${state}`} data-delivery-state={state} data-subscription-id={delivery.subscription_id} key={delivery.id}>
                <div class="delivery-head">
                  <code class="url" title={urlOf(delivery)}>
                    {urlOf(delivery)}
                  </code>
                  <StateBadge state={state} />
                </div>
                <p class="muted small">
                  {attempts.length} attempt{attempts.length === 1 ? "" : "s"}
                  {delivery.status === "pending" && delivery.next_attempt_at
                    ? ` · ${delivery.attempt_count > 0 ? "next retry" : "due"} ${fullTime(delivery.next_attempt_at)}`
                    : ""}
                  {delivery.status === "failed" ? " · gave up" : ""}
                  {delivery.scenario_id !== null ? ` · shaped by delivery scenario #${delivery.scenario_id}` : ""}
                  {delivery.last_error ? ` · ${delivery.last_error}` : ""}
                </p>
                <ol class="attempts">
                  {attempts.map((attempt, i) => (
                    <AttemptView attempt={attempt} open={i === attempts.length - 1 && !isSuccess(attempt)} key={attempt.id} />
                  ))}
                </ol>
                {delivery.status !== "pending" && (
                  <button type="button" class="chip" onClick={() => resend(delivery.subscription_id)} disabled={resending}>
                    Resend to this URL
                  </button>
                )}
              </div>
            );
          })}
          <h2>Payload</h2>
          <pre class="code">{pretty(event.payload)}</pre>
        </>
      )}
    </div>
  );
}

const isSuccess = (attempt: DeliveryAttempt) =>
  attempt.response !== null && attempt.response.status >= 200 && attempt.response.status < 300;

function AttemptView({ attempt, open }: { attempt: DeliveryAttempt; open: boolean }) {
  const ok = isSuccess(attempt);
  const { response } = attempt;
  return (
    <li class={`attempt ${ok ? "attempt-ok" : "attempt-failed"}`} data-attempt={attempt.attempt_number}>
      <details open={open}>
        <summary>
          <span class="attempt-number">#{attempt.attempt_number}</span>
          <span class={`badge ${ok ? "state-succeeded" : "state-failed"}`}>{response ? `HTTP ${response.status}` : "No response"}</span>
          <span class="muted small">
            {fullTime(attempt.attempted_at)} · {attempt.duration_ms} ms
          </span>
          {attempt.error && <span class="attempt-error">{attempt.error}</span>}
        </summary>
        <div class="attempt-body">
          {attempt.signature_diagnosis && <SignatureDoctor attempt={attempt} diagnosis={attempt.signature_diagnosis} />}
          <h3>Request</h3>
          <pre class="code">{`POST ${attempt.url}\n${headerLines(attempt.request.headers)}\n\n${prettyText(attempt.request.body)}`}</pre>
          <h3>Response</h3>
          <pre class="code">
            {response
              ? `HTTP ${response.status}\n${headerLines(response.headers)}${response.body ? `\n\n${prettyText(response.body)}` : ""}`
              : (attempt.error ?? "No response")}
          </pre>
        </div>
      </details>
    </li>
  );
}

/**
 * Beside a refused delivery: openlinq signed it correctly, so the likely causes are on the
 * receiver's side; pasting what the receiver computed pins down which.
 */
function SignatureDoctor({ attempt, diagnosis }: { attempt: DeliveryAttempt; diagnosis: NonNullable<DeliveryAttempt["signature_diagnosis"]> }) {
  const [signature, setSignature] = useState("");
  const [secret, setSecret] = useState("");
  const [body, setBody] = useState("");
  const [result, setResult] = useState<SignatureCheck | null>(null);
  const [error, setError] = useState<string | null>(null);
  const check = (e: Event) => {
    e.preventDefault();
    setError(null);
    api
      .checkSignature({
        event_id: attempt.request.headers["webhook-id"] ?? "",
        attempt_id: attempt.id,
        ...(signature ? { signature } : {}),
        ...(secret ? { secret } : {}),
        ...(body ? { body } : {}),
      })
      .then(setResult, (err: unknown) => setError((err as Error).message));
  };
  return (
    <section class="doctor" aria-label="Signature doctor">
      <h3>Signature doctor</h3>
      <p>{diagnosis.summary}</p>
      <ol class="doctor-causes">
        {diagnosis.likely_causes.map((cause) => (
          <li key={cause.code}>{cause.message}</li>
        ))}
      </ol>
      <form class="doctor-form" onSubmit={check}>
        <input class="field" placeholder="Signature your receiver computed" value={signature} onInput={(e) => setSignature((e.target as HTMLInputElement).value)} />
        <input class="field" placeholder="Secret it used" value={secret} onInput={(e) => setSecret((e.target as HTMLInputElement).value)} />
        <textarea class="field" rows={2} placeholder="Body it hashed (optional)" value={body} onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)} />
        <button type="submit" class="primary small">Check</button>
      </form>
      <Feedback error={error} />
      {result && (
        <ul class="doctor-findings" aria-label="Doctor findings">
          {result.findings.map((finding) => (
            <li class={`finding finding-${finding.severity}`} key={finding.code}>
              {finding.message}
            </li>
          ))}
        </ul>
      )}
    </section>
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

/** The delivery scenario that made the event or shaped one of its deliveries, if any. */
function scenarioOf(event: EventSummary): number | null {
  return event.scenario_id ?? event.deliveries.find((d) => d.scenario_id !== null)?.scenario_id ?? null;
}
