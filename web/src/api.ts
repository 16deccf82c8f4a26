/**
 * The inbox's only door to the server: the V2 API, the inbox reads, the sandbox
 * (simulator) and the delivery log, all with the integration token in the header.
 * Wire shapes are declared here; components never build URLs.
 */

import { WEBHOOK_EVENT_TYPES } from "../../src/core/model.ts";

export interface Session {
  organization: { id: number; name: string };
  phone_numbers: { id: number; phone_number: string; display: string }[];
}

export interface Participant {
  id: number;
  handle: string;
  display: string;
  service: string;
  is_me: boolean;
  joined_at: string;
  left_at: string | null;
}

export interface Attachment {
  id: string;
  url: string;
  filename: string;
  mime_type: string;
  file_size: number;
}

export interface Reaction {
  id: number;
  reaction: ReactionType;
  is_from_me: boolean;
  from_phone: string;
  sent_at: string;
}

export type ReactionType = "love" | "like" | "dislike" | "laugh" | "emphasize" | "question";

export interface Message {
  id: number;
  chat_id: number;
  text: string;
  is_from_me: boolean;
  sender: string;
  sent_at: string;
  delivered_at: string | null;
  delivery_status: string;
  is_read: boolean;
  read_at: string | null;
  edited_at: string | null;
  attachments: Attachment[];
  reactions: Reaction[];
}

export interface ChatHeader {
  id: number;
  display_name: string;
  service: string;
  group: boolean;
  message_count: number;
  phone_number: string;
  last_activity_at: string;
  created_at: string;
  participants: Participant[];
}

export interface ChatSummary extends ChatHeader {
  unread_count: number;
  last_message: Message | null;
}

export interface Thread {
  chat: ChatHeader;
  messages: Message[];
  has_older: boolean;
  typing: { handle: string; is_me: boolean }[];
}

export interface Subscription {
  id: number;
  webhook_url: string;
  version: number;
  events: string[];
  active: boolean;
  secret_configured: boolean;
  last_delivered_at: string | null;
  delivery_attempts: number;
  created_at: string;
  updated_at: string;
  /** Only in the answer to create. */
  secret?: string;
}

/** A V3 subscription as the V3 API shows it; its signing secret was shown once, at creation. */
export interface V3Subscription {
  id: string;
  target_url: string;
  subscribed_events: string[];
  phone_numbers: string[] | null;
  is_active: boolean;
  created_at: string;
  updated_at: string;
}

/** What a V3 subscription is created or changed with; `phone_numbers` [] or null removes the line filter. */
export interface V3SubscriptionInput {
  target_url?: string;
  subscribed_events?: string[];
  phone_numbers?: string[] | null;
  is_active?: boolean;
}

export interface SubscriptionInput {
  webhook_url?: string;
  events?: string[];
  active?: boolean;
  secret?: string;
}

export type AutoReply =
  | { type: "none" }
  | { type: "echo"; delay_ms: number }
  | { type: "script"; loop: boolean; replies: { text: string; delay_ms: number; attachment_urls: string[] }[] };

/** How the simulator plays a handle (GET /openlinq/v1/handles/{handle}). */
export interface HandleProfile {
  handle: string;
  service: string;
  reachable: boolean;
  latency_ms: number;
  jitter_ms: number;
  /** null: never reads (no read receipts). */
  read_after_ms: number | null;
  auto_reply: AutoReply;
  auto_reaction: { type: ReactionType; delay_ms: number } | null;
  stored: boolean;
  magic: string | null;
}

export type HandleProfileChanges = Partial<
  Pick<HandleProfile, "service" | "reachable" | "latency_ms" | "read_after_ms" | "auto_reaction">
> & { auto_reply?: AutoReply | { type: "script"; loop: boolean; replies: { text: string; delay_ms?: number }[] } };

/** One POST to a receiver: what was sent and what came back (response null: none arrived). */
export interface DeliveryAttempt {
  id: number;
  delivery_id: number;
  subscription_id: number;
  attempt_number: number;
  url: string;
  attempted_at: string;
  duration_ms: number;
  error: string | null;
  request: { headers: Record<string, string>; body: string };
  /** Set when the receiver answered 400/401/403 to this signed delivery. */
  signature_diagnosis: { summary: string; likely_causes: Finding[] } | null;
  response: { status: number; headers: Record<string, string>; body: string } | null;
}

/** One finding of the signature doctor. */
export interface Finding {
  code: string;
  severity: "ok" | "problem" | "hint";
  message: string;
}

export interface SignatureCheck {
  verdict: "match" | "mismatch" | "unknown";
  scheme: string | null;
  reproduced: boolean;
  attempt_id: number;
  findings: Finding[];
}

/** One event's way to one subscription. */
export interface Delivery {
  id: number;
  subscription_id: number;
  webhook_url: string;
  /** pending (waiting or retrying) | succeeded | failed (gave up). */
  status: string;
  attempt_count: number;
  next_attempt_at: string | null;
  last_response_status: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  /** The delivery scenario that delayed, duplicated or reordered it. */
  scenario_id: number | null;
}

export interface EventSummary {
  id: string;
  event_type: string;
  chat_id: number | null;
  created_at: string;
  /** The delivery scenario that made this event. */
  scenario_id: number | null;
  deliveries: Delivery[];
}

export interface EventDetail extends EventSummary {
  payload: unknown;
  attempts: DeliveryAttempt[];
}

export interface EventPage {
  events: EventSummary[];
  pagination: { current_page: number; per_page: number; total_pages: number; total_count: number };
}

/** A fault injected into the organization's own API (GET /openlinq/v1/faults). */
export interface Fault {
  id: number;
  method: string;
  path: string;
  token_id: number | null;
  status: number | null;
  retry_after: number | null;
  latency_ms: number;
  count: number | null;
  fraction: number;
  matched: number;
  hits: number;
  active: boolean;
  created_at: string;
}

/** A delivery scenario (GET /openlinq/v1/scenarios): armed for a chat, or applied with what it did. */
export interface DeliveryScenario {
  id: number;
  kind: string;
  chat_id: number;
  message_id: number | null;
  code: number | null;
  delay_ms: number;
  status: "armed" | "applied";
  event_ids: string[];
  created_at: string;
  applied_at: string | null;
}

/** The 14 V2 webhook event types (Linq's V2 webhook payloads), from the server's own catalogue. */
export const EVENT_TYPES: string[] = [...WEBHOOK_EVENT_TYPES];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let token: string | null = null;

export function setToken(value: string | null): void {
  token = value;
}

/**
 * Both V2 error envelopes (render_error and standard) and V3's become one readable message;
 * V3's integer code is kept, since Linq's documentation lists what each means.
 */
function errorMessage(status: number, body: unknown): string {
  const b = body as { errors?: { detail?: string }[] | string[]; message?: string; error?: { message?: string; code?: number } } | undefined;
  if (b?.message) return b.message;
  if (b?.error?.message) return b.error.code !== undefined ? `${b.error.message} (code ${b.error.code})` : b.error.message;
  const first = b?.errors?.[0];
  if (typeof first === "string") return first;
  if (first?.detail) return first.detail;
  return `Request failed with status ${status}`;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  // Each face takes the token its own way: V3 as a bearer token, the rest in V2's header.
  if (token && path.startsWith(V3)) headers["Authorization"] = `Bearer ${token}`;
  else if (token) headers["X-LINQ-INTEGRATION-TOKEN"] = token;
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(path, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  } catch {
    throw new ApiError(0, "The server cannot be reached; is openlinq running?");
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (!response.ok) throw new ApiError(response.status, errorMessage(response.status, parsed));
  return parsed as T;
}

const query = (params: Record<string, string | number | undefined | null>) => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
};

const V2 = "/api/partner/v2";
const V3 = "/api/partner/v3";
const OWN = "/openlinq/v1";

export const api = {
  session: () => call<Session>("GET", `${OWN}/inbox/session`),

  chats: (params: { phone_number?: string; q?: string; per_page?: number }) =>
    call<{ data: ChatSummary[]; meta: { total_count: number } }>("GET", `${OWN}/inbox/chats${query(params)}`),

  thread: (chatId: number, params: { limit?: number; before_id?: number } = {}) =>
    call<Thread>("GET", `${OWN}/inbox/chats/${chatId}/thread${query(params)}`),

  message: (chatId: number, messageId: number) =>
    call<Message>("GET", `${OWN}/inbox/chats/${chatId}/messages/${messageId}`),

  // ── Webhook subscriptions (V2) ────────────────────────────────────────────
  subscriptions: () => call<{ webhook_subscriptions: Subscription[] }>("GET", `${V2}/webhook_subscriptions`),
  createSubscription: (input: SubscriptionInput) =>
    call<{ webhook_subscription: Subscription }>("POST", `${V2}/webhook_subscriptions`, { ...input, version: 2 }),
  updateSubscription: (id: number, input: SubscriptionInput) =>
    call<{ webhook_subscription: Subscription }>("PUT", `${V2}/webhook_subscriptions/${id}`, input),
  deleteSubscription: (id: number) => call<void>("DELETE", `${V2}/webhook_subscriptions/${id}`),
  recoverSubscription: (id: number, since: string) =>
    call<{ requeued: number }>("POST", `${OWN}/webhook_subscriptions/${id}/recover`, { since }),

  // ── Webhook subscriptions (V3), through the V3 API ─────────────────────────
  /** The event types a V3 subscription may list (the V3 catalogue). */
  v3EventTypes: () => call<{ events: string[] }>("GET", `${V3}/webhook-events`).then((r) => r.events),
  v3Subscriptions: () => call<{ subscriptions: V3Subscription[] }>("GET", `${V3}/webhook-subscriptions`),
  /** The answer carries the `whsec_` signing secret, this once. */
  createV3Subscription: (input: V3SubscriptionInput) =>
    call<V3Subscription & { signing_secret: string }>("POST", `${V3}/webhook-subscriptions`, input),
  updateV3Subscription: (id: string, input: V3SubscriptionInput) =>
    call<V3Subscription>("PUT", `${V3}/webhook-subscriptions/${id}`, input),
  deleteV3Subscription: (id: string) => call<void>("DELETE", `${V3}/webhook-subscriptions/${id}`),
  recoverV3Subscription: (id: string, since: string) =>
    call<{ requeued: number }>("POST", `${OWN}/webhook_subscriptions/${id}/recover`, { since }),

  // ── Delivery log ─────────────────────────────────────────────────────────
  events: (params: { event_type?: string; chat_id?: number; since?: string; page?: number; per_page?: number }) =>
    call<EventPage>("GET", `${OWN}/events${query(params)}`),
  event: (eventId: string) => call<{ event: EventDetail }>("GET", `${OWN}/events/${eventId}`).then((r) => r.event),
  resendEvent: (eventId: string, subscriptionId?: number) =>
    call<{ deliveries: { subscription_id: number; result: string }[] }>(
      "POST",
      `${OWN}/events/${eventId}/resend`,
      subscriptionId ? { subscription_id: subscriptionId } : {},
    ),

  checkSignature: (input: { event_id: string; attempt_id: number; signature?: string; secret?: string; body?: string }) =>
    call<SignatureCheck>("POST", `${OWN}/signature/check`, input),

  // ── Fault injection ──────────────────────────────────────────────────────
  faults: () => call<{ faults: Fault[] }>("GET", `${OWN}/faults`).then((r) => r.faults),
  deleteFault: (id: number) => call<void>("DELETE", `${OWN}/faults/${id}`),
  deleteAllFaults: () => call<{ deleted: number }>("DELETE", `${OWN}/faults`),

  // ── Delivery scenarios ───────────────────────────────────────────────────
  scenarios: () => call<{ scenarios: DeliveryScenario[] }>("GET", `${OWN}/scenarios`).then((r) => r.scenarios),
  deleteScenario: (id: number) => call<void>("DELETE", `${OWN}/scenarios/${id}`),

  // ── Acting as the recipients (simulator) ─────────────────────────────────
  /** Stages a file so a simulated recipient's message can carry it as an attachment URL. */
  stageUpload: (file: File) => {
    const form = new FormData();
    form.append("file", file, file.name);
    return call<{ url: string }>("POST", `${OWN}/inbox/uploads`, form);
  },
  simulateInbound: (input: { from: string; to?: string; chat_id?: number; text?: string; attachment_urls?: string[] }) =>
    call<{ data: { chat: { id: number }; message: { id: number }; created_chat: boolean } }>(
      "POST",
      `${OWN}/simulate/inbound_message`,
      input,
    ),
  simulateReaction: (input: { from: string; chat_message_id: number; type: ReactionType; operation: "add" | "remove" }) =>
    call<unknown>("POST", `${OWN}/simulate/reaction`, input),
  simulateTyping: (input: { from: string; chat_id: number; state: "started" | "stopped" }) =>
    call<unknown>("POST", `${OWN}/simulate/typing`, input),
  simulateRead: (input: { from: string; chat_id: number }) =>
    call<{ data: { messages: unknown[] } }>("POST", `${OWN}/simulate/read`, input),
  simulateParticipants: (input: { chat_id: number; add?: string[]; remove?: string[] }) =>
    call<unknown>("POST", `${OWN}/simulate/participants`, input),
  simulateCall: (input: { from: string; to: string; duration_seconds: number }) =>
    call<unknown>("POST", `${OWN}/simulate/call`, input),
  handleProfile: (handle: string) =>
    call<{ data: HandleProfile }>("GET", `${OWN}/handles/${encodeURIComponent(handle)}`).then((r) => r.data),
  updateHandleProfile: (handle: string, changes: HandleProfileChanges) =>
    call<{ data: HandleProfile }>("PUT", `${OWN}/handles/${encodeURIComponent(handle)}`, changes).then((r) => r.data),
};
