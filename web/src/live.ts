/**
 * One Server-Sent Events connection per page (GET /openlinq/v1/stream). Views subscribe
 * to activities; on every reconnect they get a `resync` so they reload what they show,
 * because activities published while the page was disconnected are not replayed.
 */

export interface Activity {
  kind: "message" | "chat" | "typing" | "event" | "delivery" | "contact" | "profile" | "reset" | "fault" | "scenario" | "resync";
  chat_id: number | null;
  message_id: number | null;
  event_id: string | null;
  event_type: string | null;
  detail: Record<string, unknown> | null;
}

export type LiveStatus = "connecting" | "live" | "reconnecting";

type Listener = (activity: Activity) => void;

const listeners = new Set<Listener>();
const statusListeners = new Set<(status: LiveStatus) => void>();
let status: LiveStatus = "connecting";
let source: EventSource | null = null;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let connectedOnce = false;
let attempts = 0;

function setStatus(next: LiveStatus) {
  status = next;
  for (const listener of statusListeners) listener(next);
}

export function emit(activity: Activity): void {
  for (const listener of listeners) listener(activity);
}

const RESYNC: Activity = { kind: "resync", chat_id: null, message_id: null, event_id: null, event_type: null, detail: null };

export function connectLive(token: string): void {
  disconnectLive();
  const open = () => {
    source = new EventSource(`/openlinq/v1/stream?token=${encodeURIComponent(token)}`);
    source.addEventListener("hello", () => {
      attempts = 0;
      setStatus("live");
      if (connectedOnce) emit(RESYNC);
      connectedOnce = true;
    });
    source.onmessage = (message) => {
      try {
        const activity = JSON.parse(message.data) as Activity;
        // A sandbox reset changes everything: views reload as after a reconnect.
        emit(activity.kind === "reset" ? RESYNC : activity);
      } catch {
        // A malformed frame is skipped; the next resync heals the view.
      }
    };
    source.onerror = () => {
      setStatus("reconnecting");
      // EventSource retries by itself after a dropped connection, but gives up for good
      // after an HTTP error answer (e.g. 502 from a proxy while the server restarts).
      if (source?.readyState === EventSource.CLOSED) {
        source = null;
        attempts += 1;
        retryTimer = setTimeout(open, Math.min(1000 * attempts, 10_000));
      }
    };
  };
  setStatus("connecting");
  open();
}

export function disconnectLive(): void {
  clearTimeout(retryTimer);
  source?.close();
  source = null;
  connectedOnce = false;
}

export function onActivity(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function onLiveStatus(listener: (status: LiveStatus) => void): () => void {
  statusListeners.add(listener);
  listener(status);
  return () => statusListeners.delete(listener);
}
