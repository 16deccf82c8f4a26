import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { runListen } from "../src/cli/listen.ts";
import { DIALECTS, OUR_NUMBER } from "./helpers/app.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { advance, simulate, SANDBOX } from "./helpers/sandbox.ts";
import { startBothFaces, text, unwrapDelivery as unwrap, type BothFaces, type V3TestApp } from "./helpers/v3.ts";

/** The V3 events beyond messages: a call's steps, location sharing, who changed a group; and `listen` per payload version. */

const CALL_EVENTS = ["call.initiated", "call.ringing", "call.answered", "call.ended", "call.failed", "call.declined", "call.no_answer"] as const;
const EVENTS = [...CALL_EVENTS, "location.sharing.started", "location.sharing.stopped", "chat.group_name_updated", "chat.group_icon_updated"] as const;
for (const dialect of DIALECTS) {
  describe(`V3 call, location sharing and group change events (${dialect})`, () => {
    let faces: BothFaces;
    let app: V3TestApp;
    let v3: Receiver;
    before(async () => {
      faces = await startBothFaces(dialect, EVENTS);
      ({ app, v3 } = faces);
      // Another line's calls only: it hears none of ours.
      await app.client.webhookSubscriptions.create({
        target_url: `${v3.url}/elsewhere`,
        subscribed_events: [...EVENTS],
        phone_numbers: ["+12025550123"],
      });
    });
    after(() => faces.close());
    async function received() {
      const fresh = await faces.received();
      assert.equal(v3.requests.filter((r) => r.path === "/elsewhere").length, 0, "filtered to another line");
      return fresh;
    }
    const types = (events: { event_type: string }[]) => events.map((e) => e.event_type);
    const v2ChatId = async (uuid: string) => (await app.t.openlinq.deps.store.read.chats.findByUuid(1, uuid))!.id;

    it("an answered call: initiated, ringing, answered, ended for V3; one call.completed for V2", async () => {
      const call = await simulate(app.t, "call", {
        from: "+15550050001",
        to: OUR_NUMBER,
        duration_seconds: 42,
        recording: { transcription: "Hello there", summary: "A greeting" },
      });
      const got = await received();
      assert.deepEqual(types(got.v3), ["call.initiated", "call.ringing", "call.answered", "call.ended"]);
      assert.deepEqual(types(got.legacy), types(got.v3), "both payload versions get the call's steps");
      assert.deepEqual(types(got.v2), ["call.completed"]);
      assert.equal(got.v2[0]!.data.id, call.call.id);

      const [initiated, ringing, answered, ended] = got.v3;
      for (const step of got.v3) {
        assert.deepEqual(
          [step.data.id, step.data.direction, step.data.from, step.data.to, step.data.phone_number, step.data.chat_id],
          [call.call.id, "inbound", "+15550050001", OUR_NUMBER, OUR_NUMBER, null],
        );
        assert.equal(step.data.status, step.event_type.slice("call.".length));
      }
      assert.deepEqual(
        [initiated!.data.answered_at, initiated!.data.ended_at, initiated!.data.duration_seconds, initiated!.data.recording],
        [null, null, null, null],
      );
      assert.equal(ringing!.data.answered_by, null);
      assert.equal(answered!.data.answered_by, OUR_NUMBER);
      assert.equal(answered!.data.ended_at, null);
      assert.equal(ended!.data.duration_seconds, 42);
      assert.equal((Date.parse(ended!.data.ended_at) - Date.parse(ended!.data.started_at)) / 1000, 42);
      assert.deepEqual(ended!.data.recording, { url: null, duration_seconds: 42, transcription: "Hello there", summary: "A greeting" });
      assert.deepEqual(got.legacy[3]!.data, ended!.data, "one shape in both payload versions");
    });

    it("calls that end otherwise: declined, no_answer (also voicemail), failed; each still one call.completed for V2", async () => {
      const endings: [Record<string, unknown>, string[]][] = [
        [{ status: "busy" }, ["call.initiated", "call.ringing", "call.declined"]],
        [{ status: "missed" }, ["call.initiated", "call.ringing", "call.no_answer"]],
        [{ status: "no-answer" }, ["call.initiated", "call.ringing", "call.no_answer"]],
        [{ voicemail: true, duration_seconds: 20 }, ["call.initiated", "call.ringing", "call.no_answer"]],
        [{ status: "failed" }, ["call.initiated", "call.failed"]],
      ];
      for (const [ending, steps] of endings) {
        await simulate(app.t, "call", { from: OUR_NUMBER, to: "+15550050002", duration_seconds: 0, ...ending });
        const got = await received();
        assert.deepEqual(types(got.v3), steps, JSON.stringify(ending));
        assert.deepEqual(types(got.v2), ["call.completed"]);
        const last = got.v3.at(-1)!.data;
        assert.equal(last.direction, "outbound");
        assert.equal(last.answered_at, null);
        assert.equal(last.voicemail, ending.voicemail === true);
        assert.ok(last.ended_at, "the last step ends the call");
      }
    });

    it("a call with someone we have a direct chat with names that chat", async () => {
      const { chat } = await app.client.chats.create({ from: OUR_NUMBER, to: ["+15550050003"], message: text("call me") });
      await received();
      await simulate(app.t, "call", { from: "+15550050003", to: OUR_NUMBER, duration_seconds: 5 });
      const got = await received();
      assert.deepEqual(types(got.v3), ["call.initiated", "call.ringing", "call.answered", "call.ended"]);
      for (const step of got.v3) assert.equal(step.data.chat_id, chat.id);
    });

    it("location sharing: started and stopped for V3 on a change only; nothing for V2", async () => {
      const { chat } = await app.client.chats.create({ from: OUR_NUMBER, to: ["+15550050004"], message: text("where are you?") });
      await received();
      const chatId = await v2ChatId(chat.id);
      const started = await simulate(app.t, "location_sharing", { from: "+15550050004", chat_id: chatId, state: "started", duration_minutes: 60 });
      assert.equal(started.events.length, 1);
      const again = await simulate(app.t, "location_sharing", { from: "+15550050004", chat_id: chatId, state: "started" });
      assert.deepEqual(again.events, [], "already sharing");
      assert.equal(again.ends_at, started.ends_at);
      let got = await received();
      assert.deepEqual(types(got.v3), ["location.sharing.started"]);
      assert.deepEqual(types(got.legacy), ["location.sharing.started"]);
      assert.deepEqual(types(got.v2), []);
      const { began_at, ends_at, ...data } = got.v3[0]!.data;
      assert.deepEqual(data, { shared_by: "+15550050004", shared_with: OUR_NUMBER, chat_id: chat.id });
      assert.equal(Date.parse(ends_at) - Date.parse(began_at), 60 * 60_000);
      assert.equal(ends_at, started.ends_at);

      await simulate(app.t, "location_sharing", { from: "+15550050004", chat_id: chatId, state: "stopped" });
      const stoppedAgain = await simulate(app.t, "location_sharing", { from: "+15550050004", chat_id: chatId, state: "stopped" });
      assert.deepEqual(stoppedAgain.events, [], "not sharing any more");
      got = await received();
      assert.deepEqual(types(got.v3), ["location.sharing.stopped"]);
      assert.deepEqual(got.v3[0]!.data, { shared_by: "+15550050004", shared_with: OUR_NUMBER });
      assert.deepEqual(types(got.v2), []);

      // Sharing happens in direct iMessage chats, by a participant.
      const group = await app.client.chats.create({ from: OUR_NUMBER, to: ["+15550050004", "+15550050005"], message: text("group") });
      const sms = await app.client.chats.create({ from: OUR_NUMBER, to: ["+15550100002"], message: text("sms") });
      await received();
      for (const [from, uuid] of [
        ["+15550050004", group.chat.id],
        ["+15550100002", sms.chat.id],
        ["+15550050099", chat.id],
      ] as const) {
        const refused = await app.t.request("POST", `${SANDBOX}/simulate/location_sharing`, {
          body: { from, chat_id: await v2ChatId(uuid), state: "started" },
        });
        assert.equal(refused.status, 422, refused.raw);
      }
      const badDuration = await app.t.request("POST", `${SANDBOX}/simulate/location_sharing`, {
        body: { from: "+15550050004", chat_id: chatId, state: "stopped", duration_minutes: 5 },
      });
      assert.equal(badDuration.status, 422, badDuration.raw);
      assert.deepEqual(types((await received()).v3), []);
    });

    it("the location-sharer magic number shares its location 2 s after a location request; other devices do not", async () => {
      const sharer = await app.client.chats.create({ from: OUR_NUMBER, to: ["+15550100010"], message: text("hi") });
      const quiet = await app.client.chats.create({ from: OUR_NUMBER, to: ["+15550050009"], message: text("hi") });
      await received();
      await app.client.chats.location.request(sharer.chat.id);
      await app.client.chats.location.request(quiet.chat.id);
      assert.deepEqual(types((await received()).v3), [], "not yet");
      await advance(app.t, 2000);
      const got = await received();
      assert.deepEqual(types(got.v3), ["location.sharing.started"]);
      assert.deepEqual(types(got.v2), []);
      const { began_at, ends_at, ...data } = got.v3[0]!.data;
      assert.deepEqual(data, { shared_by: "+15550100010", shared_with: OUR_NUMBER, chat_id: sharer.chat.id });
      assert.equal(Date.parse(ends_at) - Date.parse(began_at), 60 * 60_000);
    });

    it("changed_by_handle: our line for an API change, the participant for a simulated one", async () => {
      const { chat } = await app.client.chats.create({ from: OUR_NUMBER, to: ["+15550050006", "+15550050007"], message: text("crew") });
      await received();
      await app.client.chats.update(chat.id, { display_name: "Ours" });
      const renamed = await simulate(app.t, "group_update", {
        from: "+15550050007",
        chat_id: await v2ChatId(chat.id),
        display_name: "Theirs",
        group_chat_icon: "https://example.com/theirs.png",
      });
      assert.equal(renamed.chat.display_name, "Theirs");
      const got = await received();
      assert.deepEqual(types(got.v3), ["chat.group_name_updated", "chat.group_name_updated", "chat.group_icon_updated"]);
      assert.deepEqual(types(got.v2), []);
      const [ours, theirs, icon] = got.v3;
      assert.deepEqual([ours!.data.old_value, ours!.data.new_value], [null, "Ours"]);
      assert.deepEqual([ours!.data.changed_by_handle.handle, ours!.data.changed_by_handle.is_me], [OUR_NUMBER, true]);
      assert.deepEqual([theirs!.data.old_value, theirs!.data.new_value], ["Ours", "Theirs"]);
      assert.deepEqual([theirs!.data.changed_by_handle.handle, theirs!.data.changed_by_handle.is_me], ["+15550050007", false]);
      assert.equal(icon!.data.changed_by_handle.handle, "+15550050007");
      assert.equal((await app.client.chats.retrieve(chat.id)).display_name, "Theirs");
      const outsider = await app.t.request("POST", `${SANDBOX}/simulate/group_update`, {
        body: { from: "+15550050099", chat_id: await v2ChatId(chat.id), display_name: "Nope" },
      });
      assert.equal(outsider.status, 422, outsider.raw);
    });

    it("documents the new simulator endpoints in the OpenAPI document of /openlinq/v1", async () => {
      const document = (await app.t.request("GET", "/openlinq/v1/openapi.json", { token: null })).body;
      for (const path of ["/openlinq/v1/simulate/location_sharing", "/openlinq/v1/simulate/group_update"]) {
        assert.ok(document.paths[path]?.post, `${path} in ${Object.keys(document.paths).filter((p) => p.includes("simulate")).join(", ")}`);
      }
    });

    it("listen --version 3 forwards the payload version asked for, as ?version= on a target URL does", async () => {
      const local = await startReceiver();
      const stops: (() => void)[] = [];
      const runs: Promise<number>[] = [];
      const lines: string[] = [];
      const secrets: Record<string, string> = {};
      for (const [name, payloadVersion] of [["v3-default", undefined], ["v3-2025", "2025-01-01"], ["v3-2026", "2026-02-03"]] as const) {
        secrets[name] = (await app.t.request("PUT", `${SANDBOX}/listeners/${name}`)).body.listener.secret;
        runs.push(
          runListen(
            {
              api: app.t.openlinq.baseUrl(),
              token: app.t.token,
              forwardTo: [`${local.url}/${name}`],
              events: "message.received",
              replaySince: undefined,
              name,
              version: "3",
              payloadVersion,
            },
            { out: (line) => lines.push(line), stopped: new Promise<void>((resolve) => stops.push(resolve)), now: () => Date.now() },
          ),
        );
      }
      try {
        await simulate(app.t, "inbound_message", { from: "+15550050008", to: OUR_NUMBER, text: "listen to me" });
        await local.waitFor((requests) => requests.length >= 3);
        const versionAt = (name: string) => {
          const request = local.requests.find((r) => r.path === `/${name}`)!;
          const event = unwrap(app, request, secrets[name]!);
          assert.equal(event.event_type, "message.received");
          return [event.webhook_version, "is_from_me" in event.data];
        };
        assert.deepEqual(versionAt("v3-default"), ["2026-02-03", false]);
        assert.deepEqual(versionAt("v3-2025"), ["2025-01-01", true]);
        assert.deepEqual(versionAt("v3-2026"), ["2026-02-03", false]);
        assert.ok(lines.some((line) => line.includes("(V3 payloads, version 2025-01-01)")), lines.join("\n"));
      } finally {
        stops.forEach((stop) => stop());
        assert.deepEqual(await Promise.all(runs), [0, 0, 0]);
        await local.close();
      }

      const misuse: string[] = [];
      const io = { out: (line: string) => misuse.push(line), stopped: new Promise<void>(() => {}), now: () => Date.now() };
      const base = { api: app.t.openlinq.baseUrl(), token: app.t.token, forwardTo: [`${v3.url}/x`], events: undefined, replaySince: undefined, name: "misuse" };
      assert.equal(await runListen({ ...base, payloadVersion: "2025-01-01" }, io), 2);
      assert.match(misuse[0]!, /--payload-version needs --version 3/);
      const stream = (query: string) =>
        fetch(`${app.t.openlinq.baseUrl()}${SANDBOX}/listeners/v3-default/stream?${query}`, { headers: { "x-linq-integration-token": app.t.token } });
      assert.equal((await stream("version=3&payload_version=2024-01-01")).status, 400);
      assert.equal((await stream("version=2&payload_version=2025-01-01")).status, 422);
    });
  });
}
