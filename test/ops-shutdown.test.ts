import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OUR_NUMBER } from "./helpers/app.ts";
import { callApi, killHard, spawnOpenlinq, stopGracefully, type Spawned } from "./helpers/processes.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";

/**
 * A real `openlinq serve` stopped with SIGTERM while webhook attempts are in flight: it
 * exits by itself, in-flight attempts finish and are recorded, the rest of its claims are
 * handed back, and after a restart every event has reached the receiver exactly once. Its
 * log has one JSON line per request, and no line shows the token (the banner only its prefix).
 */

const TOKEN = "shutdown-test-token-4f9a";
const SECRET = "shutdown-test-webhook-secret-77c1";
const EVENTS = 12;

const baseEnv = {
  OPENLINQ_TOKEN: TOKEN,
  OPENLINQ_PORT: "0",
  OPENLINQ_RATE_LIMIT: "0",
  OPENLINQ_PHONE_NUMBERS: OUR_NUMBER,
  OPENLINQ_WEBHOOK_TIMEOUT: "5s",
  // Long: a claim not handed back would hold its delivery past the test's patience.
  OPENLINQ_WEBHOOK_CLAIM_TTL: "60s",
  OPENLINQ_WEBHOOK_RETRY_SCHEDULE: "200ms,500ms",
  OPENLINQ_WEBHOOK_POLL_INTERVAL: "200ms",
  OPENLINQ_WEBHOOK_CONCURRENCY: "3",
  OPENLINQ_SHUTDOWN_TIMEOUT: "10s",
};

const api = (baseUrl: string, method: string, path: string, body?: unknown) => callApi(TOKEN, baseUrl, method, path, body);

function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("SIGTERM: graceful shutdown of a real process", () => {
  const running: Spawned[] = [];
  let receiver: Receiver;
  let dataDir: string;

  before(async () => {
    receiver = await startReceiver();
    dataDir = mkdtempSync(join(tmpdir(), "openlinq-shutdown-"));
  });
  after(async () => {
    await Promise.all(running.map(killHard));
    await receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("finishes attempts in flight, hands back the rest, and nothing is lost or doubled across the restart", async () => {
    // Slower than events are made: a backlog builds and attempts are in flight at the signal.
    receiver.answer({ status: 200, delayMs: 700 });
    const env = { ...baseEnv, OPENLINQ_DATA_DIR: dataDir };
    const first = await spawnOpenlinq(["serve"], env);
    running.push(first);
    await api(first.baseUrl!, "POST", "/api/partner/v2/webhook_subscriptions", {
      webhook_subscription: { webhook_url: `${receiver.url}/hooks`, version: 2, events: ["contact.created"], secret: SECRET },
    });
    for (let i = 0; i < EVENTS; i += 1) {
      await api(first.baseUrl!, "POST", "/api/partner/v2/contacts", { contact: { first_name: `c${i}` } });
    }
    // The inbox stream takes its token in the query: it must not reach the log either.
    const stream = await fetch(`${first.baseUrl}/openlinq/v1/stream?token=${TOKEN}`);
    assert.equal(stream.status, 200);
    await stream.body!.cancel();
    await receiver.waitFor((requests) => requests.some((r) => r.answeredWith === null));

    const code = await stopGracefully(first);
    assert.equal(code, 0, `exit code after SIGTERM:\n${first.output()}`);
    const inFlightAtSignal = receiver.requests.length;
    assert.ok(receiver.requests.every((r) => r.answeredWith === 200), "attempts in flight at the signal were answered, not cut");
    assert.ok(inFlightAtSignal < EVENTS, "the signal came while events were still queued");

    // Request lines: one per request, with id, route pattern, status and duration.
    const lines = jsonLines(first.output());
    const contactLines = lines.filter((l) => l.msg === "request" && l.route === "/api/partner/v2/contacts");
    assert.equal(contactLines.length, EVENTS);
    for (const line of contactLines) {
      assert.equal(line.status, 201);
      assert.equal(line.level, 30);
      assert.equal(typeof line.durationMs, "number");
      assert.match(String(line.reqId), /^[0-9a-f-]{36}$/);
    }

    // At warn, no request lines.
    const second = await spawnOpenlinq(["serve"], { ...env, OPENLINQ_LOG_LEVEL: "warn" });
    running.push(second);
    await receiver.waitFor(() => receiver.byEvent().size === EVENTS && receiver.requests.every((r) => r.answeredWith !== null));
    const log = await api(second.baseUrl!, "GET", "/openlinq/v1/events?event_type=contact.created&per_page=100");
    assert.equal(log.events.length, EVENTS);
    for (const event of log.events as { id: string }[]) {
      const requests = receiver.byEvent().get(event.id) ?? [];
      assert.equal(requests.length, 1, `event ${event.id} reached the receiver exactly once`);
      assert.equal(requests[0]!.answeredWith, 200);
    }
    assert.equal(await stopGracefully(second), 0);
    assert.ok(!jsonLines(second.output()).some((l) => l.msg === "request"), "OPENLINQ_LOG_LEVEL=warn turns request lines off");

    // A chosen token (OPENLINQ_TOKEN here) shows in the banner by its first characters only,
    // and in no other line; no line at all shows the webhook secret.
    for (const output of [first.output(), second.output()]) {
      assert.ok(!output.includes(TOKEN), "the token never appears in the output");
      assert.match(output, /^\s*Token\s+shut…\s+\(from OPENLINQ_TOKEN/m);
      assert.ok(!output.includes(SECRET), "the webhook secret never appears in the output");
    }
  });
});
