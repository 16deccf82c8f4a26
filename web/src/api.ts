/**
 * The inbox's only door to the server: the V2 API, the inbox reads, the sandbox
 * (simulator) and the delivery log, all with the integration token in the header.
 * Wire shapes are declared here; components never build URLs.
 */

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

export interface SubscriptionInput {
  webhook_url?: string;
  events?: string[];
  active?: boolean;
  secret?: string;
}

/** A profile of a simulated recipient: how the simulator plays this handle. */
export interface HandleProfile {
  handle: string;
  service: string;
  reachable: boolean;
  auto_reply: string | null;
  [key: string]: unknown;
}

export interface DeliveryAttempt {
  id?: number;
  attempt_number: number;
  url: string;
  attempted_at: string;
  duration_ms: number;
  request_headers: Record<string, string>;
  request_body: string;
  response_status: number | null;
  response_headers: Record<string, string> | null;
  response_body: string | null;
  error: string | null;
}

export interface Delivery {
  id?: number;
  subscription_id: number;
  webhook_url?: string;
  status: string;
  attempt_count: number;
  next_attempt_at: string | null;
  last_response_status: number | null;
  last_error: string | null;
  attempts: DeliveryAttempt[];
}

export interface EventSummary {
  event_id: string;
  event_type: string;
  chat_id: number | null;
  created_at: string;
  /** succeeded | failed | pending | none (no subscription listened). */
  status: string;
  deliveries: Omit<Delivery, "attempts">[];
}

export interface EventDetail extends EventSummary {
  payload: unknown;
  deliveries: Delivery[];
}

export interface EventPage {
  events: EventSummary[];
  next_cursor: string | null;
}

/** The 14 V2 webhook event types (v2.md §4.6). */
export const EVENT_TYPES = [
  "message.sent",
  "message.received",
  "message.read",
  "call.completed",
  "reaction.sent",
  "reaction.received",
  "typing_indicator.received",
  "typing_indicator.removed",
  "chat.created",
  "contact.created",
  "contact.updated",
  "contact.deleted",
  "participant.added",
  "participant.removed",
];

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

export function currentToken(): string | null {
  return token;
}

/** Both V2 error envelopes (render_error and standard) become one readable message. */
function errorMessage(status: number, body: unknown): string {
  const b = body as { errors?: { detail?: string }[] | string[]; message?: string } | undefined;
  if (b?.message) return b.message;
  const first = b?.errors?.[0];
  if (typeof first === "string") return first;
  if (first?.detail) return first.detail;
  return `Request failed with status ${status}`;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers["X-LINQ-INTEGRATION-TOKEN"] = token;
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
    call<unknown>("POST", `${OWN}/webhook_subscriptions/${id}/recover`, { since }),

  // ── Delivery log ─────────────────────────────────────────────────────────
  events: (params: { type?: string; chat_id?: number; since?: string; cursor?: string; limit?: number }) =>
    call<unknown>("GET", `${OWN}/events${query(params)}`).then(normalizeEventPage),
  event: (eventId: string) => call<unknown>("GET", `${OWN}/events/${eventId}`).then(normalizeEventDetail),
  resendEvent: (eventId: string) => call<unknown>("POST", `${OWN}/events/${eventId}/resend`, {}),

  // ── Acting as the recipients (simulator) ─────────────────────────────────
  simulateInbound: (form: FormData) => call<unknown>("POST", `${OWN}/simulate/inbound_message`, form),
  simulateReaction: (input: { chat_id: number; message_id: number; from: string; reaction: ReactionType; operation: "add" | "remove" }) =>
    call<unknown>("POST", `${OWN}/simulate/reaction`, input),
  simulateTyping: (input: { chat_id: number; from: string; typing: boolean }) =>
    call<unknown>("POST", `${OWN}/simulate/typing`, input),
  simulateRead: (input: { chat_id: number; from: string }) => call<unknown>("POST", `${OWN}/simulate/read`, input),
  simulateParticipants: (input: { chat_id: number; add?: string[]; remove?: string[] }) =>
    call<unknown>("POST", `${OWN}/simulate/participants`, input),
  simulateCall: (input: { from: string; to: string }) => call<unknown>("POST", `${OWN}/simulate/call`, input),
  handleProfile: (handle: string) =>
    call<unknown>("GET", `${OWN}/handles/${encodeURIComponent(handle)}`).then(normalizeProfile),
  updateHandleProfile: (handle: string, profile: Partial<HandleProfile>) =>
    call<unknown>("PUT", `${OWN}/handles/${encodeURIComponent(handle)}`, profile).then(normalizeProfile),
};

// The delivery log and simulator answer in their own envelopes; these keep the UI on one shape.

function unwrap(body: unknown): Record<string, unknown> {
  const b = body as Record<string, unknown>;
  return ((b && typeof b === "object" && "data" in b && b.data && typeof b.data === "object" ? b.data : b) ??
    {}) as Record<string, unknown>;
}

function normalizeProfile(body: unknown): HandleProfile {
  return unwrap(body) as unknown as HandleProfile;
}

function normalizeEventPage(body: unknown): EventPage {
  const b = body as Record<string, unknown>;
  const list = (Array.isArray(b) ? b : (b.events ?? b.data ?? [])) as EventSummary[];
  const meta = (b.meta ?? {}) as Record<string, unknown>;
  return { events: list, next_cursor: (b.next_cursor ?? meta.next_cursor ?? null) as string | null };
}

function normalizeEventDetail(body: unknown): EventDetail {
  return unwrap(body) as unknown as EventDetail;
}
