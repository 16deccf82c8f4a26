import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { createSseParser, parseSince, runListen } from "../src/cli/listen.ts";
import { parseEventFilter } from "../src/delivery/listeners.service.ts";
import { createInstantTransport } from "../src/transport/instant.transport.ts";
import { WEBHOOK_EVENT_TYPES } from "../src/core/model.ts";
import { buildApp, type OpenLinq } from "../src/app.ts";
import { loadConfig } from "../src/config/config.ts";
import { dropPostgresSchema } from "../src/storage/database.ts";
import { DIALECTS, OUR_NUMBER, TEST_TOKEN, startTestApp, type TestApp } from "./helpers/app.ts";
import { startTcpProxy } from "./helpers/tcp-proxy.ts";
import { readFrames } from "./helpers/event-stream.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { V2 } from "./helpers/v2.ts";

const API = "/openlinq/v1";

describe("openlinq listen: what it parses", () => {
  it("takes --replay-since as an ISO time or a duration back from now", () => {
    const now = Date.parse("2026-03-01T12:00:00.000Z");
    assert.equal(parseSince("30m", now)?.toISOString(), "2026-03-01T11:30:00.000Z");
    assert.equal(parseSince("2h", now)?.toISOString(), "2026-03-01T10:00:00.000Z");
    assert.equal(parseSince("1d", now)?.toISOString(), "2026-02-28T12:00:00.000Z");
    assert.equal(parseSince("2026-02-01T08:00:00Z", now)?.toISOString(), "2026-02-01T08:00:00.000Z");
    assert.equal(parseSince("yesterday", now), undefined);
    assert.equal(parseSince("2026-13-45", now), undefined);
  });

  it("splits Server-Sent Events however the chunks fall", () => {
    const parse = createSseParser();
    assert.deepEqual(parse("event: hello\ndata: {}\n\n: ping\n\nid: 3\nevent: web"), [{ event: "hello", data: "{}" }]);
    assert.deepEqual(parse("hook\ndata: {\"a\":1}\r\n\r\ndata: x\ndata: y\n\n"), [
      { event: "webhook", data: '{"a":1}' },
      { event: "message", data: "x\ny" },
    ]);
  });

  it("matches event filters exactly or by family, and refuses a filter that matches nothing", () => {
    const accepts = parseEventFilter(["message.received", "reaction.*"], WEBHOOK_EVENT_TYPES);
    assert.ok(accepts("message.received"));
    assert.ok(accepts("reaction.sent") && accepts("reaction.received"));
    assert.ok(!accepts("message.sent"));
    assert.ok(parseEventFilter([], WEBHOOK_EVENT_TYPES)("chat.created"));
    assert.throws(() => parseEventFilter(["message.recieved"], WEBHOOK_EVENT_TYPES), /matches no event type/);
    assert.throws(() => parseEventFilter(["reactions.*"], WEBHOOK_EVENT_TYPES), /matches no event type/);
  });

  it("explains what is missing before connecting anywhere", async () => {
    const lines: string[] = [];
    const code = await runListen(
      { api: "localhost:4010", token: undefined, forwardTo: ["ftp://x"], events: undefined, replaySince: "soon", name: undefined, version: "4" },
      { out: (line) => lines.push(line), stopped: new Promise(() => {}), now: () => Date.now() },
    );
    assert.equal(code, 2);
    assert.match(lines[0]!, /a token is needed/);
    assert.match(lines[0]!, /--forward-to ftp:\/\/x is not an http\(s\) URL/);
    assert.match(lines[0]!, /--api localhost:4010 is not an http\(s\) URL/);
    assert.match(lines[0]!, /--replay-since soon/);
    assert.match(lines[0]!, /--version takes 2 or 3, not 4/);
  });
});

/** Someone writes to our number from `from`: one message.received; returns its event id. */
async function inbound(t: TestApp, from: string, text: string): Promise<string> {
  const res = await t.request("POST", `${API}/simulate/inbound_message`, { body: { from, to: OUR_NUMBER, text } });
  assert.equal(res.status, 201, res.raw);
  const ids = (res.body.data.events as { event_id: string; event_type: string }[]).map((e) => e.event_id);
  assert.equal(ids.length, 1, res.raw);
  return ids[0]!;
}

async function createContact(t: TestApp, phone: string): Promise<void> {
  const res = await t.request("POST", `${V2}/contacts`, { body: { contact: { first_name: "Ada", last_name: "L", phone_number: phone } } });
  assert.equal(res.status, 201, res.raw);
}

interface StreamFrame {
  event: string;
  data: any;
}

/** Opens a listener's stream over real HTTP; `next()` gives its frames (heartbeats skipped). */
async function openStream(t: TestApp, name: string, query = "") {
  const abort = new AbortController();
  const response = await fetch(`${t.openlinq.baseUrl()}${API}/listeners/${name}/stream${query}`, {
    headers: { "x-linq-integration-token": t.token },
    signal: abort.signal,
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
  const read = readFrames(response);
  return {
    async next(): Promise<StreamFrame> {
      for (;;) {
        const parsed = createSseParser()(`${await read()}\n\n`);
        if (parsed.length > 0) return { event: parsed[0]!.event, data: JSON.parse(parsed[0]!.data) };
      }
    },
    close: () => abort.abort(),
  };
}

for (const dialect of DIALECTS) {
  describe(`/openlinq/v1/listeners (${dialect})`, () => {
    let t: TestApp;
    let receiver: Receiver;
    const streams: { close(): void }[] = [];
    before(async () => {
      t = await startTestApp(dialect, { overrides: { transport: createInstantTransport } });
      await t.openlinq.listen();
      receiver = await startReceiver();
    });
    afterEach(() => streams.splice(0).forEach((stream) => stream.close()));
    after(async () => {
      await receiver.close();
      await t.close();
    });

    it("creates a listener once and keeps its secret; a second start finds it", async () => {
      const first = await t.request("PUT", `${API}/listeners/laptop`);
      assert.equal(first.status, 200, first.raw);
      assert.equal(first.body.created, true);
      assert.match(first.body.listener.secret, /^whsec_[A-Za-z0-9+/]{32}$/);
      const again = await t.request("PUT", `${API}/listeners/laptop`, { body: {} });
      assert.equal(again.body.created, false);
      assert.equal(again.body.listener.secret, first.body.listener.secret);
      const list = await t.request("GET", `${API}/listeners`);
      assert.deepEqual(list.body.listeners.map((l: { name: string }) => l.name), ["laptop"]);
      assert.equal(list.body.listeners[0].secret, undefined, "the list does not repeat secrets");
      assert.equal((await t.request("DELETE", `${API}/listeners/laptop`)).status, 204);
      assert.equal((await t.request("DELETE", `${API}/listeners/laptop`)).status, 404);
    });

    it("refuses bad names, filters, positions and tokens with a clear error", async () => {
      const badName = await t.request("PUT", `${API}/listeners/-oops`);
      assert.equal(badName.status, 422, badName.raw);
      assert.match(badName.body.errors[0].detail, /listener name "-oops" must be 1 to 64 letters/);
      await t.request("PUT", `${API}/listeners/strict`);
      const badFilter = await fetch(`${t.openlinq.baseUrl()}${API}/listeners/strict/stream?events=message.recieved`, {
        headers: { "x-linq-integration-token": t.token },
      });
      assert.equal(badFilter.status, 422);
      assert.match(((await badFilter.json()) as any).errors[0].detail, /"message.recieved" matches no event type/);
      const missing = await t.request("GET", `${API}/listeners/nobody/stream`);
      assert.equal(missing.status, 404);
      assert.match(missing.body.errors[0].detail, /Listener "nobody" not found/);
      const future = await t.request("POST", `${API}/listeners/strict/ack`, { body: { position: 1_000_000 } });
      assert.equal(future.status, 422);
      assert.match(future.body.errors[0].detail, /past the newest event/);
      const noPosition = await t.request("POST", `${API}/listeners/strict/ack`, { body: {} });
      assert.equal(noPosition.status, 400);
      assert.equal((await t.request("PUT", `${API}/listeners/strict`, { token: "not-a-token" })).status, 401);
    });

    it("streams the bytes a V2 subscription gets, signed with the listener's secret, and resumes after the last acknowledgement", async () => {
      const subscribed = await t.request("POST", `${V2}/webhook_subscriptions`, {
        body: { webhook_subscription: { webhook_url: `${receiver.url}/hooks`, version: 2, events: ["message.received"] } },
      });
      assert.equal(subscribed.status, 201, subscribed.raw);
      const opened = await t.request("PUT", `${API}/listeners/resume`);
      const secret: string = opened.body.listener.secret;
      const ids = [await inbound(t, "+16175550101", "one"), await inbound(t, "+16175550101", "two"), await inbound(t, "+16175550102", "three")];

      const stream = await openStream(t, "resume");
      streams.push(stream);
      const hello = await stream.next();
      assert.equal(hello.event, "hello");
      const frames = [await stream.next(), await stream.next(), await stream.next()];
      assert.deepEqual(frames.map((f) => f.event), ["webhook", "webhook", "webhook"]);
      assert.deepEqual(frames.map((f) => f.data.event_id), ids);

      await receiver.waitFor((requests) => requests.length >= 3);
      for (const frame of frames) {
        const { headers, body } = frame.data;
        const delivered = receiver.byEvent().get(frame.data.event_id)![0]!;
        assert.equal(body, delivered.body, "the same bytes as the subscription's delivery");
        assert.equal(headers["x-webhook-event"], "message.received");
        assert.equal(headers["webhook-id"], frame.data.event_id);
        assert.equal(headers["x-webhook-signature"], `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`);
        assert.doesNotThrow(() => new Webhook(secret).verify(body, headers));
      }

      // The first is handled; the stream drops; the next one starts with the second.
      const acked = await t.request("POST", `${API}/listeners/resume/ack`, { body: { position: frames[0]!.data.position } });
      assert.equal(acked.status, 200, acked.raw);
      assert.equal(acked.body.listener.acked_position, frames[0]!.data.position);
      stream.close();
      const resumed = await openStream(t, "resume");
      streams.push(resumed);
      assert.equal((await resumed.next()).data.acked_position, frames[0]!.data.position);
      assert.deepEqual([(await resumed.next()).data.event_id, (await resumed.next()).data.event_id], ids.slice(1));
      // An acknowledgement never moves the cursor back.
      await t.request("POST", `${API}/listeners/resume/ack`, { body: { position: frames[2]!.data.position } });
      const stale = await t.request("POST", `${API}/listeners/resume/ack`, { body: { position: frames[1]!.data.position } });
      assert.equal(stale.body.listener.acked_position, frames[2]!.data.position);
      // Live: what happens next arrives on the open stream.
      const live = await inbound(t, "+16175550103", "four");
      assert.equal((await resumed.next()).data.event_id, live);
    });

    it("with version=3, streams what a V3 subscription gets, signed the V3 way too", async () => {
      const subscribed = await t.request("POST", "/api/partner/v3/webhook-subscriptions", {
        headers: { authorization: `Bearer ${t.token}` },
        token: null,
        body: { target_url: `${receiver.url}/v3`, subscribed_events: ["message.received"] },
      });
      assert.equal(subscribed.status, 201, subscribed.raw);
      const secret: string = (await t.request("PUT", `${API}/listeners/v3-face`)).body.listener.secret;
      const id = await inbound(t, "+16175550141", "for V3");
      const stream = await openStream(t, "v3-face", "?version=3&events=message.received");
      streams.push(stream);
      await stream.next();
      const frame = await stream.next();
      assert.equal(frame.data.event_id, id);
      await receiver.waitFor((requests) => requests.some((r) => r.path === "/v3" && r.headers["webhook-id"] === id));
      const delivered = receiver.requests.find((r) => r.path === "/v3" && r.headers["webhook-id"] === id)!;
      const { headers, body } = frame.data;
      assert.equal(body, delivered.body, "the same bytes as the V3 subscription's delivery");
      assert.equal(JSON.parse(body).api_version, "v3");
      assert.equal(headers["x-webhook-subscription-id"], "listener:v3-face");
      const legacy = createHmac("sha256", secret).update(`${headers["x-webhook-timestamp"]}.${body}`).digest("hex");
      assert.equal(headers["x-webhook-signature"], legacy);
      assert.doesNotThrow(() => new Webhook(secret).verify(body, headers));
      const unknown = await fetch(`${t.openlinq.baseUrl()}${API}/listeners/v3-face/stream?version=3&events=contact.created`, {
        headers: { "x-linq-integration-token": t.token },
      });
      assert.equal(unknown.status, 422, "V3 has no contact events");
    });

    it("retries a failing local endpoint before moving on, so order holds; a 4xx is final", async () => {
      assert.equal((await t.request("PUT", `${API}/listeners/flaky`)).status, 200);
      const local = await startReceiver();
      local.queue({ status: 503 }, { status: 200 }, { status: 400 });
      const lines: string[] = [];
      let stop!: () => void;
      const running = runListen(
        { api: t.openlinq.baseUrl(), token: t.token, forwardTo: [`${local.url}/in`], events: "message.received", replaySince: undefined, name: "flaky" },
        { out: (line) => lines.push(line), stopped: new Promise<void>((resolve) => (stop = resolve)), now: () => Date.now() },
      );
      try {
        const ids = [await inbound(t, "+16175550151", "first"), await inbound(t, "+16175550151", "second"), await inbound(t, "+16175550151", "third")];
        await local.waitFor((requests) => requests.filter((r) => r.answeredWith !== null).length >= 4);
        assert.deepEqual(local.requests.map((r) => [r.headers["webhook-id"], r.answeredWith]), [
          [ids[0], 503],
          [ids[0], 200],
          [ids[1], 400],
          [ids[2], 200],
        ]);
        assert.ok(lines.some((line) => line.includes(ids[0]!) && / 503 \d+ms; retrying in 250ms$/.test(line)), lines.join("\n"));
        assert.ok(lines.some((line) => line.includes(ids[1]!) && / 400 \d+ms$/.test(line)), lines.join("\n"));
      } finally {
        stop();
        await running;
        await local.close();
      }
    });

    it("forwards each event to every --forward-to, the same bytes and headers to each", async () => {
      assert.equal((await t.request("PUT", `${API}/listeners/fan-out`)).status, 200);
      const [one, two] = [await startReceiver(), await startReceiver()];
      const lines: string[] = [];
      let stop!: () => void;
      const running = runListen(
        { api: t.openlinq.baseUrl(), token: t.token, forwardTo: [`${one.url}/a`, `${two.url}/b`], events: undefined, replaySince: undefined, name: "fan-out" },
        { out: (line) => lines.push(line), stopped: new Promise<void>((resolve) => (stop = resolve)), now: () => Date.now() },
      );
      let id = "";
      try {
        id = await inbound(t, "+16175550161", "to both");
        // The next event goes out only once the first was answered everywhere, printed and acknowledged.
        await inbound(t, "+16175550161", "and the next");
        await Promise.all([one, two].map((r) => r.waitFor((requests) => requests.length >= 2)));
        const [a, b] = [one.requests[0]!, two.requests[0]!];
        assert.equal(a.headers["webhook-id"], id);
        assert.equal(a.body, b.body);
        assert.equal(a.headers["x-webhook-signature"], b.headers["x-webhook-signature"]);
        assert.equal(a.headers["webhook-signature"], b.headers["webhook-signature"]);
      } finally {
        stop();
        await running;
        await one.close();
        await two.close();
      }
      const line = lines.find((l) => l.includes(id));
      assert.ok(line?.includes(`${one.url}/a 200`) && line.includes(`${two.url}/b 200`), lines.join("\n"));
    });

    it("filters by event type, with checkpoints past what it left out", async () => {
      await t.request("PUT", `${API}/listeners/contacts-only`);
      await inbound(t, "+16175550111", "not a contact");
      await createContact(t, "+16175550112");
      await inbound(t, "+16175550111", "not a contact either");
      const stream = await openStream(t, "contacts-only", "?events=contact.*");
      streams.push(stream);
      assert.equal((await stream.next()).event, "hello");
      const contact = await stream.next();
      assert.equal(contact.event, "webhook");
      assert.equal(contact.data.event_type, "contact.created");
      const checkpoint = await stream.next();
      assert.equal(checkpoint.event, "checkpoint");
      assert.ok(checkpoint.data.position > contact.data.position);
      const acked = await t.request("POST", `${API}/listeners/contacts-only/ack`, { body: { position: checkpoint.data.position } });
      assert.equal(acked.body.listener.acked_position, checkpoint.data.position);
    });

    it("replays from a time: a new or existing listener starts at the first event created since", async () => {
      const before = new Date(Date.now() - 1);
      const first = await inbound(t, "+16175550121", "replay me");
      await inbound(t, "+16175550121", "and me");
      await t.request("PUT", `${API}/listeners/replayer`);
      const opened = await t.request("PUT", `${API}/listeners/replayer`, { body: { replay_since: before.toISOString() } });
      assert.equal(opened.status, 200, opened.raw);
      const stream = await openStream(t, "replayer");
      streams.push(stream);
      await stream.next();
      assert.equal((await stream.next()).data.event_id, first);
    });
  });
}

if (DIALECTS.includes("postgres")) {
  describe("openlinq listen across two nodes (postgres)", () => {
    let a: TestApp;
    let b: TestApp;
    let receiver: Receiver;
    before(async () => {
      a = await startTestApp("postgres", { overrides: { transport: createInstantTransport } });
      b = await startTestApp("postgres", { nodeOf: a, overrides: { transport: createInstantTransport } });
      await b.openlinq.listen();
      receiver = await startReceiver();
    });
    after(async () => {
      await receiver.close();
      await b.close();
      await a.close();
    });

    it("a listener on one node gets what both nodes commit, each chat's in order", async () => {
      assert.equal((await a.request("PUT", `${API}/listeners/nodes`)).status, 200);
      let stop!: () => void;
      const lines: string[] = [];
      const running = runListen(
        { api: b.openlinq.baseUrl(), token: b.token, forwardTo: [`${receiver.url}/in`], events: undefined, replaySince: undefined, name: "nodes" },
        { out: (line) => lines.push(line), stopped: new Promise<void>((resolve) => (stop = resolve)), now: () => Date.now() },
      );
      // Four chats, each written alternately through both nodes; chats run concurrently.
      const perChat: string[][] = [[], [], [], []];
      await Promise.all(
        perChat.map(async (ids, chat) => {
          for (let i = 0; i < 15; i++) ids.push(await inbound(i % 2 === 0 ? a : b, `+1617555${3000 + chat}`, `message ${i}`));
        }),
      );
      const produced = perChat.flat();
      await receiver.waitFor((requests) => new Set(requests.map((r) => r.headers["webhook-id"])).size >= produced.length, 60_000);
      stop();
      assert.equal(await running, 0);
      const received = receiver.requests.map((r) => String(r.headers["webhook-id"]));
      assert.deepEqual([...received].sort(), [...produced].sort(), "every event once");
      for (const ids of perChat) assert.deepEqual(received.filter((id) => ids.includes(id)), ids);
      assert.match(lines.find((line) => line.startsWith("message.received"))!, /^message\.received\s+[0-9a-f-]{36}  200 \d+ms$/);
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`openlinq listen across a server restart (${dialect})`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), "openlinq-listen-"));
    const schema = `test_${randomBytes(6).toString("hex")}`;
    const config = () =>
      loadConfig(
        {},
        {
          DATA_DIR: dataDir,
          TOKEN: TEST_TOKEN,
          PHONE_NUMBERS: OUR_NUMBER,
          RATE_LIMIT: "0",
          LOG_LEVEL: "silent",
          PORT: "0",
          ...(dialect === "postgres" ? { DATABASE_URL: process.env.TEST_DATABASE_URL!, DATABASE_SCHEMA: schema } : {}),
        },
      );
    const start = async () => {
      const server = await buildApp(config(), { transport: createInstantTransport });
      await server.listen();
      return server;
    };
    after(async () => {
      rmSync(dataDir, { recursive: true, force: true });
      if (dialect === "postgres") await dropPostgresSchema(process.env.TEST_DATABASE_URL!, schema);
    });

    it("resumes after the last acknowledged event on the server that replaced the first", async () => {
      let server = await start();
      const address = (app: OpenLinq) => ({ host: "127.0.0.1", port: Number(new URL(app.baseUrl()).port) });
      const proxy = await startTcpProxy(address(server));
      const receiver = await startReceiver();
      const write = async (text: string) => {
        const res = await server.http.inject({
          method: "POST",
          url: `${API}/simulate/inbound_message`,
          headers: { "x-linq-integration-token": TEST_TOKEN },
          payload: { from: "+16175550131", to: OUR_NUMBER, text },
        });
        assert.equal(res.statusCode, 201, res.body);
        return (res.json().data.events as { event_id: string }[])[0]!.event_id;
      };
      const created = await server.http.inject({ method: "PUT", url: `${API}/listeners/restart`, headers: { "x-linq-integration-token": TEST_TOKEN } });
      assert.equal(created.statusCode, 200, created.body);
      let stop!: () => void;
      const running = runListen(
        { api: proxy.url, token: TEST_TOKEN, forwardTo: [`${receiver.url}/in`], events: undefined, replaySince: undefined, name: "restart" },
        { out: () => {}, stopped: new Promise<void>((resolve) => (stop = resolve)), now: () => Date.now() },
      );
      try {
        const ids = [await write("before 1"), await write("before 2")];
        await receiver.waitFor((requests) => requests.length >= 2);
        await server.close();
        server = await start();
        proxy.retarget(address(server));
        ids.push(await write("after the restart"));
        await receiver.waitFor((requests) => requests.length >= 3, 60_000);
        assert.deepEqual(receiver.requests.map((r) => r.headers["webhook-id"]), ids);
      } finally {
        stop();
        await running;
        await proxy.close();
        await receiver.close();
        await server.close();
      }
    });
  });
}
