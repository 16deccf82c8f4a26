import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { EVENT_TYPES, api, type Subscription, type V3Subscription, type V3SubscriptionInput } from "../api.ts";
import { fullTime, toLocalInput } from "../format.ts";
import { useActivityRefresh, useLatestRequest } from "../hooks.ts";
import { EventDetailView, EventList } from "./events.tsx";
import { Feedback } from "./feedback.tsx";


/** What the V3 forms offer: the V3 event catalogue and the organization's lines. */
interface V3Choices {
  eventTypes: string[];
  lines: string[];
}

export function WebhooksView({ eventId, lines }: { eventId: string | null; lines: string[] }) {
  const [subscriptions, setSubscriptions] = useState<Subscription[] | null>(null);
  const [v3Subscriptions, setV3Subscriptions] = useState<V3Subscription[]>([]);
  const [v3EventTypes, setV3EventTypes] = useState<string[]>([]);
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
  useEffect(() => {
    api.v3EventTypes().then(setV3EventTypes, (e: Error) => setError(e.message));
  }, []);
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
        <NewSubscription
          label="New subscription"
          form={(created, cancel) => (
            <SubscriptionForm
              submitLabel="Create subscription"
              onCancel={cancel}
              onSubmit={async (input) => {
                created((await api.createSubscription(input)).webhook_subscription.secret ?? null);
                load();
              }}
            />
          )}
        />
        <V3SubscriptionList subscriptions={v3Subscriptions} choices={{ eventTypes: v3EventTypes, lines }} onChanged={load} />
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
      editButton={<EditToggle editing={editing} setEditing={setEditing} />}
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

/** V3 subscriptions: made, changed and managed through the V3 API; the `whsec_` secret shows once, at creation. */
function V3SubscriptionList(props: { subscriptions: V3Subscription[]; choices: V3Choices; onChanged: () => void }) {
  return (
    <section class="v3-subscriptions" aria-label="V3 subscriptions">
      <h2 class="small">V3 subscriptions</h2>
      {props.subscriptions.length > 0 && (
        <ul class="subscription-list">
          {props.subscriptions.map((s) => (
            <V3SubscriptionCard subscription={s} choices={props.choices} onChanged={props.onChanged} key={s.id} />
          ))}
        </ul>
      )}
      <NewSubscription
        label="New V3 subscription"
        form={(created, cancel) => (
          <V3SubscriptionForm
            choices={props.choices}
            submitLabel="Create V3 subscription"
            onCancel={cancel}
            onSubmit={async (input) => {
              created((await api.createV3Subscription(input)).signing_secret);
              props.onChanged();
            }}
          />
        )}
      />
    </section>
  );
}

function V3SubscriptionCard({ subscription: s, choices, onChanged }: { subscription: V3Subscription; choices: V3Choices; onChanged: () => void }) {
  const [editing, setEditing] = useState(false);
  const outcome = useOutcome(onChanged);
  const { version } = splitPayloadVersion(s.target_url);
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
          V3 · payload {version || `${DEFAULT_PAYLOAD_VERSION} (default)`} ·{" "}
          {choices.eventTypes.length > 0 && s.subscribed_events.length === choices.eventTypes.length ? "All events" : s.subscribed_events.join(", ")}
          {s.phone_numbers ? ` · lines ${s.phone_numbers.join(", ")}` : " · all lines"}
        </>
      }
      editButton={<EditToggle editing={editing} setEditing={setEditing} />}
    >
      {editing && (
        <V3SubscriptionForm
          initial={s}
          choices={choices}
          submitLabel="Save"
          onSubmit={async (input) => {
            await api.updateV3Subscription(s.id, input);
            setEditing(false);
            onChanged();
          }}
        />
      )}
    </SubscriptionShell>
  );
}

/** V3 payload versions, chosen by `?version=` on the target URL; without it the newest. */
const PAYLOAD_VERSIONS = ["2026-02-03", "2025-01-01"];
const DEFAULT_PAYLOAD_VERSION = "2026-02-03";

/** A target URL as the address the receiver listens on and the `?version=` it asks for ("" when none). */
function splitPayloadVersion(targetUrl: string): { address: string; version: string } {
  try {
    const url = new URL(targetUrl);
    const version = url.searchParams.get("version");
    if (version === null) return { address: targetUrl, version: "" };
    url.searchParams.delete("version");
    return { address: url.toString(), version };
  } catch {
    return { address: targetUrl, version: "" };
  }
}

/** The target URL with `?version=` set to `version` (removed for ""); a URL left as typed when nothing changes or it does not parse (the server says why). */
function withPayloadVersion(address: string, version: string): string {
  try {
    const url = new URL(address);
    if (version === "" && !url.searchParams.has("version")) return address;
    if (version === "") url.searchParams.delete("version");
    else url.searchParams.set("version", version);
    return url.toString();
  } catch {
    return address;
  }
}

function V3SubscriptionForm(props: {
  initial?: V3Subscription;
  choices: V3Choices;
  submitLabel: string;
  onSubmit: (input: V3SubscriptionInput) => Promise<void>;
  onCancel?: () => void;
}) {
  const initial = splitPayloadVersion(props.initial?.target_url ?? "");
  const [address, setAddress] = useState(initial.address);
  const [version, setVersion] = useState(initial.version);
  const { eventTypes, lines: allLines } = props.choices;
  const [events, setEvents] = useState<string[]>(props.initial?.subscribed_events ?? eventTypes);
  const [lines, setLines] = useState<string[]>(props.initial?.phone_numbers ?? []);
  return (
    <FormShell
      submitLabel={props.submitLabel}
      onCancel={props.onCancel}
      ready={address.trim() !== "" && events.length > 0}
      submit={() =>
        props.onSubmit({ target_url: withPayloadVersion(address.trim(), version), subscribed_events: events, phone_numbers: lines })
      }
    >
      <label class="field">
        <span>Target URL</span>
        <input type="url" required value={address} onInput={(e) => setAddress(e.currentTarget.value)} placeholder="http://127.0.0.1:3000/webhooks" />
      </label>
      <label class="field">
        <span>Payload version</span>
        <select value={version} onChange={(e) => setVersion(e.currentTarget.value)}>
          <option value="">Default ({DEFAULT_PAYLOAD_VERSION})</option>
          {PAYLOAD_VERSIONS.map((v) => (
            <option value={v}>{v}</option>
          ))}
        </select>
      </label>
      <EventChecklist all={eventTypes} chosen={events} setChosen={setEvents} />
      {allLines.length > 0 && (
        <fieldset class="event-types">
          <legend>Only events of these lines (none: every line)</legend>
          {allLines.map((line) => (
            <label class="check small">
              <input type="checkbox" checked={lines.includes(line)} onChange={() => setLines(toggled(lines, line))} />
              <span>{line}</span>
            </label>
          ))}
        </fieldset>
      )}
    </FormShell>
  );
}

const toggled = (list: string[], item: string) => (list.includes(item) ? list.filter((i) => i !== item) : [...list, item]);

function EditToggle({ editing, setEditing }: { editing: boolean; setEditing: (editing: boolean) => void }) {
  return (
    <button type="button" class={`chip ${editing ? "pressed" : ""}`} onClick={() => setEditing(!editing)}>
      Edit
    </button>
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

/**
 * A "new subscription" button that opens `form`; the form calls `created` with the signing
 * secret of what it made, which is shown here this once.
 */
function NewSubscription(props: {
  label: string;
  form: (created: (secret: string | null) => void, cancel: () => void) => ComponentChildren;
}) {
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
        props.form(
          (created) => {
            setSecret(created);
            setOpen(false);
          },
          () => setOpen(false),
        )
      ) : (
        <button type="button" class="primary small" onClick={() => setOpen(true)}>
          {props.label}
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
  return (
    <FormShell
      submitLabel={props.submitLabel}
      onCancel={props.onCancel}
      ready={url.trim() !== "" && events.length > 0}
      submit={() => props.onSubmit({ webhook_url: url.trim(), events, ...(secret ? { secret } : {}) })}
    >
      <label class="field">
        <span>Webhook URL</span>
        <input type="url" required value={url} onInput={(e) => setUrl(e.currentTarget.value)} placeholder="http://127.0.0.1:3000/webhooks" />
      </label>
      <EventChecklist all={EVENT_TYPES} chosen={events} setChosen={setEvents} />
      <label class="field">
        <span>{props.initial ? "New signing secret (optional)" : "Signing secret (optional: generated when empty)"}</span>
        <input value={secret} onInput={(e) => setSecret(e.currentTarget.value)} autoComplete="off" />
      </label>
    </FormShell>
  );
}

/** One checkbox per event type, with an all/none switch. */
function EventChecklist({ all, chosen, setChosen }: { all: string[]; chosen: string[]; setChosen: (events: string[]) => void }) {
  const everything = chosen.length === all.length;
  return (
    <fieldset class="event-types">
      <legend>
        Events{" "}
        <button type="button" class="link-button small" onClick={() => setChosen(everything ? [] : all)}>
          {everything ? "none" : "all"}
        </button>
      </legend>
      {all.map((type) => (
        <label class="check small">
          <input type="checkbox" checked={chosen.includes(type)} onChange={() => setChosen(toggled(chosen, type))} />
          <span>{type}</span>
        </label>
      ))}
    </fieldset>
  );
}

/** A subscription form's frame: submit (busy while it runs), the server's error as it said it, cancel. */
function FormShell(props: {
  submitLabel: string;
  ready: boolean;
  submit: () => Promise<void>;
  onCancel?: (() => void) | undefined;
  children: ComponentChildren;
}) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="subscription-form"
      onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        props
          .submit()
          .catch((err: Error) => setError(err.message))
          .finally(() => setBusy(false));
      }}
    >
      {props.children}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="button-row">
        <button type="submit" class="primary small" disabled={busy || !props.ready}>
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
