import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import pino from "pino";
import { DIALECTS, startTestApp, type TestApp } from "./helpers/app.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { V2 } from "./helpers/v2.ts";

/**
 * The operations endpoints at the root: /healthz, /readyz and /metrics, unauthenticated,
 * and the request log line. Shutdown, and logs of a real process, are in ops-shutdown.test.ts.
 */

/** The value of one sample line of the Prometheus text, or undefined when it is not there. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

/** Captures pino's JSON lines, as the process would print them. */
function captureLog(level: string): { logger: pino.Logger; lines(): Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return {
    logger: pino({ level }, stream),
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

for (const dialect of DIALECTS) {
  describe(`operations endpoints (${dialect})`, () => {
    let t: TestApp;
    let receiver: Receiver;
    const log = captureLog("info");

    before(async () => {
      receiver = await startReceiver();
      // No worker in the process: the outbox fills and a worker started by the test drains it.
      t = await startTestApp(dialect, {
        config: { WORKER: "false", WEBHOOK_RETRY_JITTER_PERCENT: "0" },
        overrides: { logger: log.logger },
      });
    });
    after(async () => {
      await t.close();
      await receiver.close();
    });

    it("/healthz and /readyz answer without a token", async () => {
      const health = await t.request("GET", "/healthz", { token: null });
      assert.equal(health.status, 200);
      assert.deepEqual(health.body, { status: "ok" });
      const ready = await t.request("GET", "/readyz", { token: null });
      assert.equal(ready.status, 200, ready.raw);
      assert.deepEqual(ready.body, { status: "ok" });
    });

    it("/metrics counts requests by route pattern and shows the outbox filling and draining", async () => {
      const subscription = await t.request("POST", `${V2}/webhook_subscriptions`, {
        body: { webhook_subscription: { webhook_url: `${receiver.url}/hooks`, version: 2, events: ["contact.created"] } },
      });
      assert.equal(subscription.status, 201, subscription.raw);
      for (const name of ["Ada", "Grace", "Edsger"]) {
        const res = await t.request("POST", `${V2}/contacts`, { body: { contact: { first_name: name } } });
        assert.equal(res.status, 201, res.raw);
      }
      const missing = await t.request("GET", `${V2}/contacts/999999`);
      assert.equal(missing.status, 404);

      const before = await t.request("GET", "/metrics", { token: null });
      assert.equal(before.status, 200);
      assert.match(String(before.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
      const text = before.raw;
      assert.equal(sample(text, "openlinq_http_request_duration_seconds_count", { route: `${V2}/contacts`, method: "POST", status: "201" }), 3);
      assert.equal(sample(text, "openlinq_http_request_duration_seconds_count", { route: `${V2}/contacts/:id`, method: "GET", status: "404" }), 1);
      assert.equal(sample(text, "openlinq_outbox_pending_deliveries"), 3);
      assert.equal(sample(text, "openlinq_outbox_due_deliveries"), 3);
      assert.ok(sample(text, "openlinq_outbox_oldest_pending_age_seconds")! >= 0);
      assert.equal(sample(text, "openlinq_webhook_attempts_total", { outcome: "succeeded" }), 0);
      assert.ok(sample(text, "process_cpu_user_seconds_total") !== undefined, "process metrics are included");

      const worker = t.openlinq.newDeliveryWorker();
      await worker.runDue();
      await worker.close();
      assert.equal(receiver.requests.length, 3);

      const drained = (await t.request("GET", "/metrics", { token: null })).raw;
      assert.equal(sample(drained, "openlinq_outbox_pending_deliveries"), 0);
      assert.equal(sample(drained, "openlinq_outbox_due_deliveries"), 0);
      assert.equal(sample(drained, "openlinq_outbox_oldest_pending_age_seconds"), 0);
      assert.equal(sample(drained, "openlinq_webhook_attempts_total", { outcome: "succeeded" }), 3);
      assert.equal(sample(drained, "openlinq_webhook_claim_lag_seconds_count"), 3);
      if (dialect === "postgres") {
        assert.ok(sample(drained, "openlinq_db_pool_max_connections")! > 0);
        assert.ok(sample(drained, "openlinq_db_pool_connections", { state: "idle" }) !== undefined);
      }
    });

    it("/metrics shows the outbound queue filling and draining: depth, due jobs and the oldest one's wait", async () => {
      const recipient = "+15557790001";
      const profile = await t.request("PUT", `/openlinq/v1/handles/${encodeURIComponent(recipient)}`, { body: { latency_ms: 1 } });
      assert.equal(profile.status, 200, profile.raw);
      const empty = (await t.request("GET", "/metrics", { token: null })).raw;
      assert.equal(sample(empty, "openlinq_outbound_pending_jobs"), 0);
      assert.equal(sample(empty, "openlinq_outbound_oldest_due_age_seconds"), 0);

      // The request performs its send; the delivery it plans waits for a worker (this node has none).
      const chat = await t.request("POST", `${V2}/chats`, {
        body: { send_from: "+19998887777", chat: { phone_numbers: [recipient] }, message: { text: "Queued" } },
      });
      assert.equal(chat.status, 200, chat.raw);
      assert.equal(chat.body.data.message.delivery_status, "pending");
      let text = (await t.request("GET", "/metrics", { token: null })).raw;
      while (sample(text, "openlinq_outbound_due_jobs") === 0) {
        await new Promise((resolve) => setTimeout(resolve, 5)); // the delivery falls due 1 ms after the send
        text = (await t.request("GET", "/metrics", { token: null })).raw;
      }
      assert.equal(sample(text, "openlinq_outbound_pending_jobs"), 1);
      assert.equal(sample(text, "openlinq_outbound_due_jobs"), 1);
      assert.ok(sample(text, "openlinq_outbound_oldest_due_age_seconds")! > 0);
      assert.equal(sample(text, "openlinq_outbound_failed_jobs"), 0);

      assert.equal((await t.openlinq.outbound.runDue()).jobs, 1);
      const drained = (await t.request("GET", "/metrics", { token: null })).raw;
      assert.equal(sample(drained, "openlinq_outbound_pending_jobs"), 0);
      assert.equal(sample(drained, "openlinq_outbound_due_jobs"), 0);
      assert.equal(sample(drained, "openlinq_outbound_oldest_due_age_seconds"), 0);
    });

    it("a failing receiver shows as retrying attempts", async () => {
      receiver.answer({ status: 500 });
      const res = await t.request("POST", `${V2}/contacts`, { body: { contact: { first_name: "Barbara" } } });
      assert.equal(res.status, 201);
      const worker = t.openlinq.newDeliveryWorker();
      await worker.runDue();
      await worker.close();
      receiver.answer({ status: 200 });
      const text = (await t.request("GET", "/metrics", { token: null })).raw;
      assert.equal(sample(text, "openlinq_webhook_attempts_total", { outcome: "retrying" }), 1);
      assert.equal(sample(text, "openlinq_outbox_pending_deliveries"), 1);
    });

    it("logs one line per request with its id, route pattern, status and duration, and never the token", async () => {
      const res = await t.request("GET", `${V2}/contacts?page=1`);
      assert.equal(res.status, 200);
      const line = log.lines().find((l) => l.msg === "request" && l.route === `${V2}/contacts` && l.method === "GET");
      assert.ok(line, "a request line for GET /contacts");
      assert.equal(line.status, 200);
      assert.equal(line.level, 30);
      assert.match(String(line.reqId), /^[0-9a-f-]{36}$/);
      assert.equal(typeof line.durationMs, "number");
      // Probes are frequent; they log at debug only.
      assert.ok(!log.lines().some((l) => l.route === "/healthz"));
      assert.ok(!JSON.stringify(log.lines()).includes(t.token));
    });

    it("/readyz answers 503 naming the webhook or outbound worker when the process should run one and it stopped", async () => {
      const withWorker = await startTestApp(dialect, { overrides: { logger: pino({ level: "silent" }) } });
      try {
        assert.equal((await withWorker.request("GET", "/readyz", { token: null })).status, 200);
        await withWorker.openlinq.worker!.close();
        const ready = await withWorker.request("GET", "/readyz", { token: null });
        assert.equal(ready.status, 503);
        assert.deepEqual(ready.body, { status: "unavailable", problems: ["webhook worker not running"] });
        await withWorker.openlinq.outbound.close();
        const outboundStopped = await withWorker.request("GET", "/readyz", { token: null });
        assert.deepEqual(outboundStopped.body, { status: "unavailable", problems: ["webhook worker not running", "outbound worker not running"] });
        assert.equal((await withWorker.request("GET", "/healthz", { token: null })).status, 200);
      } finally {
        await withWorker.close();
      }
    });
  });
}
