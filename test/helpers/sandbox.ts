import assert from "node:assert/strict";
import { createHmac, timingSafeEqual } from "node:crypto";
import type { ConfigOverrides } from "../../src/config/config.ts";
import { startTestApp, type Dialect, type TestApp, type TestResponse } from "./app.ts";
import { startReceiver, type ReceivedRequest, type Receiver } from "./receiver.ts";
import { V2 } from "./v2.ts";
import { WEBHOOK_EVENT_TYPES } from "../../src/core/model.ts";

/** Shared steps of the simulator scenario tests: a virtual clock, a real receiver, the events it got. */

export const SANDBOX = "/openlinq/v1";

export const ALL_EVENTS = [...WEBHOOK_EVENT_TYPES];

/**
 * The product on a virtual clock with a fixed random seed. One webhook attempt at a time
 * and exact retry delays, so the receiver sees events in the order they happened.
 */
export function startSandbox(dialect: Dialect, config: ConfigOverrides = {}): Promise<TestApp> {
  return startTestApp(dialect, {
    config: {
      CLOCK: "virtual",
      RANDOM_SEED: "7",
      WEBHOOK_CONCURRENCY: "1",
      WEBHOOK_RETRY_JITTER_PERCENT: "0",
      ...config,
    },
  });
}

export interface Envelope {
  event_id: string;
  event_type: string;
  created_at: string;
  api_version: string;
  data: Record<string, any>;
}

/** A receiver subscribed to `events`, and the envelopes it got, in arrival order. */
export interface Listener {
  receiver: Receiver;
  secret: string;
  subscriptionId: number;
  envelopes(): Envelope[];
  /** Event types received after the first `from` envelopes. */
  types(from?: number): string[];
  close(): Promise<void>;
}

export async function listen(t: TestApp, events: string[] = ALL_EVENTS, token?: string): Promise<Listener> {
  const receiver = await startReceiver();
  const res = await t.request("POST", `${V2}/webhook_subscriptions`, {
    token,
    body: { webhook_subscription: { webhook_url: `${receiver.url}/linq`, version: 2, events } },
  });
  assert.equal(res.status, 201, res.raw);
  const envelopes = () => receiver.requests.map((r) => JSON.parse(r.body) as Envelope);
  return {
    receiver,
    secret: res.body.webhook_subscription.secret,
    subscriptionId: res.body.webhook_subscription.id,
    envelopes,
    types: (from = 0) => envelopes().slice(from).map((e) => e.event_type),
    close: () => receiver.close(),
  };
}

/** Moves the virtual clock; returns once everything due on the way ran and its webhooks were delivered. */
export async function advance(t: TestApp, ms: number): Promise<TestResponse> {
  const res = await t.request("POST", `${SANDBOX}/clock/advance`, { body: { ms } });
  assert.equal(res.status, 200, res.raw);
  return res;
}

/** Runs what is due now (simulator work, webhook deliveries) without moving time. */
export const settle = (t: TestApp) => advance(t, 0);

/** POST /openlinq/v1/simulate/<action>, expecting `status`; returns `data`. */
export async function simulate(t: TestApp, action: string, body: unknown, status = action === "inbound_message" || action === "reaction" || action === "call" ? 201 : 200) {
  const res = await t.request("POST", `${SANDBOX}/simulate/${action}`, { body });
  assert.equal(res.status, status, res.raw);
  return res.body.data;
}

export async function putProfile(t: TestApp, handle: string, profile: Record<string, unknown>) {
  const res = await t.request("PUT", `${SANDBOX}/handles/${encodeURIComponent(handle)}`, { body: profile });
  assert.equal(res.status, 200, res.raw);
  return res.body.data;
}

export async function getProfile(t: TestApp, handle: string) {
  const res = await t.request("GET", `${SANDBOX}/handles/${encodeURIComponent(handle)}`);
  assert.equal(res.status, 200, res.raw);
  return res.body.data;
}

export async function getMessage(t: TestApp, chatId: number, messageId: number) {
  const res = await t.request("GET", `${V2}/chats/${chatId}/chat_messages/${messageId}`);
  assert.equal(res.status, 200, res.raw);
  return res.body.data;
}

export async function getChat(t: TestApp, chatId: number) {
  const res = await t.request("GET", `${V2}/chats/${chatId}`);
  assert.equal(res.status, 200, res.raw);
  return res.body.data;
}

/** The V2 scheme, checked with node:crypto: HMAC-SHA256 of the raw body keyed by the secret. */
export function hasValidV2Signature(request: ReceivedRequest, secret: string): boolean {
  const header = String(request.headers["x-webhook-signature"] ?? "");
  if (!header.startsWith("sha256=")) return false;
  const expected = createHmac("sha256", secret).update(request.body).digest();
  const given = Buffer.from(header.slice("sha256=".length), "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Returns a reader that settles the clock and gives the envelopes the receiver got since
 * the previous read. `hooks` is a getter because suites create their listener in before().
 */
export function envelopeReader(t: () => TestApp, hooks: () => Listener) {
  let cursor = 0;
  return async () => {
    await advance(t(), 0);
    const envelopes = hooks().envelopes().slice(cursor);
    cursor += envelopes.length;
    return envelopes;
  };
}
