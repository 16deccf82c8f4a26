import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { loadConfig } from "../src/config/config.ts";
import { deliveryHeaders, signV2, standardWebhooksKey } from "../src/delivery/signer.ts";
import { judgeAttempt, parseRetryAfter, retryDelay, type RetryPolicy } from "../src/delivery/retry-schedule.ts";

const body = '{"api_version":"v2","data":{"id":"1","text":"héllo ✓"},"event_id":"e1","event_type":"message.sent"}';
const now = new Date();

function headersFor(secret: string) {
  return deliveryHeaders({ eventId: "e1", eventType: "message.sent", subscriptionId: 7, secret, body, at: now });
}

describe("webhook signatures", () => {
  it("X-Webhook-Signature is sha256=<hex HMAC-SHA256(secret as given, body)>, as Linq's V2 webhook docs describe", () => {
    for (const secret of ["your-webhook-secret-key", `whsec_${randomBytes(24).toString("base64")}`]) {
      const expected = createHmac("sha256", Buffer.from(secret, "utf8")).update(Buffer.from(body, "utf8")).digest("hex");
      assert.equal(signV2(secret, body), `sha256=${expected}`);
      assert.equal(headersFor(secret)["x-webhook-signature"], `sha256=${expected}`);
    }
  });

  it("whsec_<base64> secrets (what we generate) verify with the standardwebhooks library as given", () => {
    for (let bytes = 16; bytes <= 40; bytes += 1) {
      const secret = `whsec_${randomBytes(bytes).toString("base64")}`;
      const headers = headersFor(secret);
      assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body), secret);
    }
  });

  it("other secrets verify with the library's raw format, and the key derivation matches the library's", () => {
    const secret = "a-user-given-secret";
    assert.deepEqual(new Webhook(secret, { format: "raw" }).verify(body, headersFor(secret)), JSON.parse(body));
    // whsec_ followed by something that is not base64 is used raw too.
    const odd = "whsec_not-base64!";
    assert.deepEqual(new Webhook(odd, { format: "raw" }).verify(body, headersFor(odd)), JSON.parse(body));
    assert.deepEqual(standardWebhooksKey(odd), Buffer.from(odd));
  });

  it("headers name the event, the subscription and the attempt time; no signatures without a secret", () => {
    const signed = headersFor("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    assert.equal(signed["content-type"], "application/json");
    assert.equal(signed["x-webhook-event"], "message.sent");
    assert.equal(signed["x-webhook-subscription-id"], "7");
    assert.equal(signed["x-webhook-timestamp"], String(Math.floor(now.getTime() / 1000)));
    assert.equal(signed["webhook-id"], "e1");
    assert.match(signed["webhook-signature"]!, /^v1,[A-Za-z0-9+/]+=*$/);
    const unsigned = deliveryHeaders({ eventId: "e1", eventType: "message.sent", subscriptionId: 7, secret: null, body, at: now });
    assert.equal(unsigned["x-webhook-signature"], undefined);
    assert.equal(unsigned["webhook-signature"], undefined);
    assert.equal(unsigned["webhook-id"], "e1");
  });
});

describe("webhook retry schedule", () => {
  const exact: RetryPolicy = { schedule: [5_000, 30_000, 120_000], jitter: 0, random: Math.random };
  const judge = (status: number | null, failure: "timeout" | "connection" | "refused" | null = null, retryAfter: string | null = null, attempts = 1) =>
    judgeAttempt(exact, attempts, { status, failure, retryAfter }, now);

  it("retries 5xx, 408, 429, timeouts and connection errors; everything else non-2xx is final", () => {
    for (const status of [500, 502, 503, 504, 408, 429]) assert.deepEqual(judge(status), { kind: "retry", delayMs: 5_000 }, String(status));
    assert.deepEqual(judge(null, "timeout"), { kind: "retry", delayMs: 5_000 });
    assert.deepEqual(judge(null, "connection"), { kind: "retry", delayMs: 5_000 });
    for (const status of [200, 201, 204, 299]) assert.equal(judge(status).kind, "succeeded");
    for (const status of [400, 401, 403, 404, 413, 422, 301, 302]) {
      const verdict = judge(status);
      assert.equal(verdict.kind, "failed", String(status));
      assert.equal(verdict.kind === "failed" && verdict.deactivate, false);
    }
    assert.deepEqual(judge(410), { kind: "failed", reason: "410 Gone: subscription deactivated", deactivate: true });
    assert.equal(judge(null, "refused").kind, "failed");
  });

  it("walks the schedule and gives up after its last delay", () => {
    assert.deepEqual(judge(500, null, null, 2), { kind: "retry", delayMs: 30_000 });
    assert.deepEqual(judge(500, null, null, 3), { kind: "retry", delayMs: 120_000 });
    assert.equal(judge(500, null, null, 4).kind, "failed");
  });

  it("Retry-After (seconds or HTTP date) lengthens a delay, never shortens it, and is capped at an hour", () => {
    assert.deepEqual(judge(429, null, "90"), { kind: "retry", delayMs: 90_000 });
    assert.deepEqual(judge(429, null, "1"), { kind: "retry", delayMs: 5_000 });
    assert.deepEqual(judge(503, null, new Date(now.getTime() + 60_000).toUTCString()).kind, "retry");
    assert.equal(parseRetryAfter(new Date(Math.floor(now.getTime() / 1000) * 1000 + 60_000).toUTCString(), now)! <= 60_000, true);
    assert.equal(parseRetryAfter("999999", now), 60 * 60 * 1000);
    assert.equal(parseRetryAfter("soon", now), undefined);
  });

  it("jitter spreads each delay within ± its fraction", () => {
    const low = retryDelay({ ...exact, jitter: 0.2, random: () => 0 }, 2);
    const high = retryDelay({ ...exact, jitter: 0.2, random: () => 0.999999 }, 2);
    assert.equal(low, 24_000);
    assert.ok(high > 35_999 && high <= 36_000);
  });

  it("defaults to Linq's policy: 10 retries over about 25 minutes, with a 10 s timeout", () => {
    const config = loadConfig({}, { DATA_DIR: "/tmp/openlinq-config-check" });
    assert.equal(config.webhookRetrySchedule.length, 10);
    const total = config.webhookRetrySchedule.reduce((sum, ms) => sum + ms, 0);
    assert.ok(total > 24 * 60_000 && total < 27 * 60_000, `${total} ms`);
    assert.equal(config.webhookTimeoutMs, 10_000);
    assert.ok(config.webhookClaimTtlMs > config.webhookTimeoutMs);
    assert.throws(
      () => loadConfig({}, { WEBHOOK_RETRY_SCHEDULE: "5s,soon", WEBHOOK_CLAIM_TTL: "5s" }),
      /WEBHOOK_RETRY_SCHEDULE has a bad duration "soon"[\s\S]*WEBHOOK_CLAIM_TTL/,
    );
  });
});
