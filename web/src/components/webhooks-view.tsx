import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { EVENT_TYPES, api, type Subscription, type V3Subscription } from "../api.ts";
import { fullTime, toLocalInput } from "../format.ts";
import { useActivityRefresh, useLatestRequest } from "../hooks.ts";
import { EventDetailView, EventList } from "./events.tsx";
import { Feedback } from "./feedback.tsx";


export function WebhooksView({ eventId }: { eventId: string | null }) {
  const [subscriptions, setSubscriptions] = useState<Subscription[] | null>(null);
  const [v3Subscriptions, setV3Subscriptions] = useState<V3Subscription[]>([]);
  const [error, setError] = useState<string | null>(null);
  const latest = useLatestRequest();
  const load = () =>
    latest(
      Promise.all([api.subscriptions(), api.v3Subscriptions()]),
      ([v2, v3]) => {
        setSubscriptions(v2.webhook_subscriptions);
        setV3Subscriptions(v3.subscriptions);
        setError(null);
      },
      (e) => setError((e as Error).message),
    );
  useEffect(load, []);
  // Attempts change the counters; any activity may have caused one (or will shortly).
  useActivityRefresh(() => true, load, 400);

  return (
    <div class={`webhooks ${eventId ? "has-detail" : ""}`}>
      <aside class="sidebar subscriptions" aria-label="Webhook subscriptions">
        <div class="sidebar-head">
          <div class="sidebar-title">
            <h1>Subscriptions</h1>
          </div>
        </div>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <SubscriptionList subscriptions={subscriptions ?? []} onChanged={load} />
        <NewSubscription onCreated={load} />
        {v3Subscriptions.length > 0 && <V3SubscriptionList subscriptions={v3Subscriptions} onChanged={load} />}
      </aside>
      <section class="events-pane" aria-label="Events">
        {eventId ? <EventDetailView eventId={eventId} subscriptions={subscriptions ?? []} /> : <EventList />}
      </section>
    </div>
  );
}

function SubscriptionList({ subscriptions, onChanged }: { subscriptions: Subscription[]; onChanged: () => void }) {
  if (subscriptions.length === 0) {
    return <p class="muted list-empty">No subscriptions yet: add your receiver's URL below.</p>;
  }
  return (
    <ul class="subscription-list">
      {subscriptions.map((s) => (
        <SubscriptionCard subscription={s} onChanged={onChanged} key={s.id} />
      ))}
    </ul>
  );
}

function SubscriptionCard({ subscription: s, onChanged }: { subscription: Subscription; onChanged: () => void }) {
  const [editing, setEditing] = useState(false);
  const outcome = useOutcome(onChanged);
  return (
    <SubscriptionShell
      id={s.id}
      url={s.webhook_url}
      active={s.active}
      outcome={outcome}
      toggle={() => api.updateSubscription(s.id, { active: !s.active })}
      recover={(since) => api.recoverSubscription(s.id, since)}
      remove={() => api.deleteSubscription(s.id)}
      details={
        <>
          {s.events.length === EVENT_TYPES.length ? "All events" : s.events.join(", ")} · {s.delivery_attempts}{" "}
          {s.delivery_attempts === 1 ? "attempt" : "attempts"}
          {s.last_delivered_at ? ` · last delivered ${fullTime(s.last_delivered_at)}` : ""}
          {s.secret_configured ? " · signed" : " · unsigned"}
        </>
      }
      editButton={
        <button type="button" class={`chip ${editing ? "pressed" : ""}`} onClick={() => setEditing(!editing)}>
          Edit
        </button>
      }
    >
      {editing && (
        <SubscriptionForm
          initial={s}
          submitLabel="Save"
          onSubmit={async (input) => {
            await api.updateSubscription(s.id, input);
            setEditing(false);
            onChanged();
          }}
        />
      )}
    </SubscriptionShell>
  );
}

/** V3 subscriptions are created through the V3 API (their secret is shown there once); here they are paused, recovered and deleted. */
function V3SubscriptionList({ subscriptions, onChanged }: { subscriptions: V3Subscription[]; onChanged: () => void }) {
  return (
    <section class="v3-subscriptions" aria-label="V3 subscriptions">
      <h2 class="small">V3 subscriptions</h2>
      <ul class="subscription-list">
        {subscriptions.map((s) => (
          <V3SubscriptionCard subscription={s} onChanged={onChanged} key={s.id} />
        ))}
      </ul>
    </section>
  );
}

function V3SubscriptionCard({ subscription: s, onChanged }: { subscription: V3Subscription; onChanged: () => void }) {
  const outcome = useOutcome(onChanged);
  return (
    <SubscriptionShell
      id={s.id}
      url={s.target_url}
      active={s.is_active}
      outcome={outcome}
      toggle={() => api.updateV3Subscription(s.id, { is_active: !s.is_active })}
      recover={(since) => api.recoverV3Subscription(s.id, since)}
      remove={() => api.deleteV3Subscription(s.id)}
      details={
        <>
          V3 · {s.subscribed_events.join(", ")}
          {s.phone_numbers ? ` · lines ${s.phone_numbers.join(", ")}` : ""}
        </>
      }
    />
  );
}

type Outcome = ReturnType<typeof useOutcome>;

/** Runs a card's actions; a string an action resolves to is shown as its outcome, an error as the error. */
function useOutcome(onChanged: () => void) {
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const run = async (action: () => Promise<unknown>) => {
    setError(null);
    setNotice(null);
    try {
      const result = await action();
      if (typeof result === "string") setNotice(result);
      onChanged();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return { run, error, notice };
}

/** What every subscription card shows and does, whichever face made the subscription. */
function SubscriptionShell(props: {
  id: number | string;
  url: string;
  active: boolean;
  details: ComponentChildren;
  outcome: Outcome;
  toggle: () => Promise<unknown>;
  recover: (since: string) => Promise<{ requeued: number }>;
  remove: () => Promise<unknown>;
  editButton?: ComponentChildren;
  children?: ComponentChildren;
}) {
  const [recovering, setRecovering] = useState(false);
  const { run, error, notice } = props.outcome;
  return (
    <li class={`subscription ${props.active ? "" : "paused"}`} data-subscription-id={props.id}>
      <div class="subscription-top">
        <code class="url" title={props.url}>
          {props.url}
        </code>
        <span class={`badge ${props.active ? "badge-ok" : "badge-muted"}`}>{props.active ? "Active" : "Paused"}</span>
      </div>
      <p class="muted small">{props.details}</p>
      <div class="button-row">
        <button type="button" class="chip" onClick={() => void run(props.toggle)}>
          {props.active ? "Pause" : "Resume"}
        </button>
        {props.editButton}
        <button type="button" class={`chip ${recovering ? "pressed" : ""}`} onClick={() => setRecovering(!recovering)}>
          Recover…
        </button>
        <button
          type="button"
          class="chip danger"
          onClick={() => {
            if (confirm(`Delete the subscription to ${props.url}?`)) void run(props.remove);
          }}
        >
          Delete
        </button>
      </div>
      {recovering && <RecoverForm run={run} recover={props.recover} />}
      {props.children}
      <Feedback error={error} notice={notice} />
    </li>
  );
}

/** Queues again every failed delivery of a subscription since a chosen time. */
function RecoverForm(props: { run: (action: () => Promise<string>) => Promise<void>; recover: (since: string) => Promise<{ requeued: number }> }) {
  const [since, setSince] = useState(() => toLocalInput(new Date(Date.now() - 3_600_000)));
  return (
    <form
      class="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        void props.run(async () => {
          const { requeued } = await props.recover(new Date(since).toISOString());
          return requeued === 0 ? "No failed delivery since then" : `${requeued} failed deliver${requeued === 1 ? "y" : "ies"} queued again`;
        });
      }}
    >
      <label class="field grow">
        <span>Send again every event since</span>
        <input type="datetime-local" step="1" value={since} onInput={(e) => setSince(e.currentTarget.value)} required />
      </label>
      <button type="submit" class="secondary small">
        Recover
      </button>
    </form>
  );
}

function NewSubscription({ onCreated }: { onCreated: () => void }) {
  const [open, setOpen] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  return (
    <div class="new-subscription">
      {secret && (
        <div class="secret-once" role="status">
          <strong>Signing secret — shown this once</strong>
          <code class="secret">{secret}</code>
          <div class="button-row">
            <button type="button" class="chip" onClick={() => void navigator.clipboard?.writeText(secret)}>
              Copy
            </button>
            <button type="button" class="chip" onClick={() => setSecret(null)}>
              I saved it
            </button>
          </div>
        </div>
      )}
      {open ? (
        <SubscriptionForm
          submitLabel="Create subscription"
          onCancel={() => setOpen(false)}
          onSubmit={async (input) => {
            const created = await api.createSubscription(input);
            setSecret(created.webhook_subscription.secret ?? null);
            setOpen(false);
            onCreated();
          }}
        />
      ) : (
        <button type="button" class="primary small" onClick={() => setOpen(true)}>
          New subscription
        </button>
      )}
    </div>
  );
}

function SubscriptionForm(props: {
  initial?: Subscription;
  submitLabel: string;
  onSubmit: (input: { webhook_url: string; events: string[]; secret?: string }) => Promise<void>;
  onCancel?: () => void;
}) {
  const [url, setUrl] = useState(props.initial?.webhook_url ?? "");
  const [events, setEvents] = useState<string[]>(props.initial?.events ?? EVENT_TYPES);
  const [secret, setSecret] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const toggle = (type: string) => setEvents(events.includes(type) ? events.filter((e) => e !== type) : [...events, type]);
  return (
    <form
      class="subscription-form"
      onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        props
          .onSubmit({ webhook_url: url.trim(), events, ...(secret ? { secret } : {}) })
          .catch((err: Error) => setError(err.message))
          .finally(() => setBusy(false));
      }}
    >
      <label class="field">
        <span>Webhook URL</span>
        <input type="url" required value={url} onInput={(e) => setUrl(e.currentTarget.value)} placeholder="http://127.0.0.1:3000/webhooks" />
      </label>
      <fieldset class="event-types">
        <legend>
          Events{" "}
          <button type="button" class="link-button small" onClick={() => setEvents(events.length === EVENT_TYPES.length ? [] : EVENT_TYPES)}>
            {events.length === EVENT_TYPES.length ? "none" : "all"}
          </button>
        </legend>
        {EVENT_TYPES.map((type) => (
          <label class="check small">
            <input type="checkbox" checked={events.includes(type)} onChange={() => toggle(type)} />
            <span>{type}</span>
          </label>
        ))}
      </fieldset>
      <label class="field">
        <span>{props.initial ? "New signing secret (optional)" : "Signing secret (optional: generated when empty)"}</span>
        <input value={secret} onInput={(e) => setSecret(e.currentTarget.value)} autoComplete="off" />
      </label>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="button-row">
        <button type="submit" class="primary small" disabled={busy || !url.trim() || events.length === 0}>
          {props.submitLabel}
        </button>
        {props.onCancel && (
          <button type="button" class="secondary small" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
