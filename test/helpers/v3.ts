import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import LinqAPIV3, { APIError } from "@linqapp/sdk";
import type { UnwrapWebhookEvent } from "@linqapp/sdk/resources/webhooks";
import { startReceiver, type ReceivedRequest, type Receiver } from "./receiver.ts";
import { advance, listen, type Envelope } from "./sandbox.ts";
import { OUR_NUMBER, startTestApp, TEST_TOKEN, type Dialect, type TestApp } from "./app.ts";

/** The official V3 client against a real listening server (port 0). */
export interface V3TestApp {
  t: TestApp;
  client: LinqAPIV3;
  /** A client of another token (e.g. a second organization's). */
  clientFor(token: string): LinqAPIV3;
  close(): Promise<void>;
}

export async function startV3App(dialect: Dialect, options: Parameters<typeof startTestApp>[1] = {}): Promise<V3TestApp> {
  const t = await startTestApp(dialect, options);
  await t.openlinq.listen();
  const clientFor = (token: string) =>
    new LinqAPIV3({ apiKey: token, baseURL: `${t.openlinq.baseUrl()}/api/partner`, maxRetries: 0 });
  return { t, client: clientFor(TEST_TOKEN), clientFor, close: () => t.close() };
}

export const text = (value: string) => ({ parts: [{ type: "text" as const, value }] });

/** Runs a call that must fail and checks the V3 envelope: HTTP status, integer code, trace id. */
export async function expectV3Error(call: Promise<unknown>, status: number, code: number): Promise<APIError> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof APIError, `expected an APIError, got ${String(error)}`);
    const body = error.error as { success: boolean; error: { status: number; code: number; message: string }; trace_id: string };
    assert.equal(error.status, status, JSON.stringify(body));
    assert.equal(body.success, false);
    assert.equal(body.error.status, status);
    assert.equal(body.error.code, code, JSON.stringify(body));
    assert.equal(typeof body.error.message, "string");
    assert.match(body.trace_id, /^[0-9a-f]{32}$/);
    assert.equal(error.headers?.get("x-trace-id"), body.trace_id);
    return error;
  }
  assert.fail(`expected a ${status} (${code}), but the call succeeded`);
}

/** Every V3 delivery passes the official client's verification (Standard Webhooks) and the legacy hex check. */
export function unwrapDelivery(app: V3TestApp, request: ReceivedRequest, secret: string): UnwrapWebhookEvent & { data: any } {
  const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
  const event = app.client.webhooks.unwrap(request.body, { headers, key: secret }) as UnwrapWebhookEvent & { data: any };
  const legacy = createHmac("sha256", secret).update(`${headers["x-webhook-timestamp"]}.${request.body}`).digest("hex");
  assert.equal(headers["x-webhook-signature"], legacy, "legacy X-Webhook-Signature: hex over {timestamp}.{body}");
  assert.equal(headers["x-webhook-event"], event.event_type);
  assert.equal(headers["webhook-id"], event.event_id);
  return event;
}

/** One organization heard by both faces: a V3 subscription per payload version and a V2 one. */
export interface BothFaces {
  app: V3TestApp;
  /** The V3 subscriptions' receiver: `/v3` (2026-02-03) and `/v3-legacy?version=2025-01-01`. */
  v3: Receiver;
  /** Settles the virtual clock; the events each subscription got since the last call, every V3 one verified. */
  received(): Promise<{ v3: V3Event[]; legacy: V3Event[]; v2: Envelope[] }>;
  close(): Promise<void>;
}

type V3Event = ReturnType<typeof unwrapDelivery>;

/**
 * The product on a virtual clock, one delivery at a time (receivers see events in the order
 * they happened), with V3 subscriptions to `events` in both payload versions and a V2
 * subscription to every V2 event.
 */
export async function startBothFaces(dialect: Dialect, events: readonly string[]): Promise<BothFaces> {
  const app = await startV3App(dialect, {
    config: { CLOCK: "virtual", RANDOM_SEED: "7", WEBHOOK_CONCURRENCY: "1", WEBHOOK_RETRY_JITTER_PERCENT: "0" },
  });
  const v3 = await startReceiver();
  const subscribe = async (path: string) =>
    (await app.client.webhookSubscriptions.create({ target_url: `${v3.url}${path}`, subscribed_events: [...events] as never })).signing_secret;
  const secret = await subscribe("/v3");
  const legacySecret = await subscribe("/v3-legacy?version=2025-01-01");
  const v2 = await listen(app.t);
  let seen = { v3: 0, legacy: 0, v2: 0 };
  return {
    app,
    v3,
    async received() {
      await advance(app.t, 0);
      const current = v3.requests.filter((r) => r.path === "/v3");
      const legacy = v3.requests.filter((r) => r.path.startsWith("/v3-legacy"));
      const fresh = {
        v3: current.slice(seen.v3).map((r) => unwrapDelivery(app, r, secret)),
        legacy: legacy.slice(seen.legacy).map((r) => unwrapDelivery(app, r, legacySecret)),
        v2: v2.envelopes().slice(seen.v2),
      };
      seen = { v3: current.length, legacy: legacy.length, v2: v2.envelopes().length };
      return fresh;
    },
    async close() {
      await v2.close();
      await v3.close();
      await app.close();
    },
  };
}

export { OUR_NUMBER };
