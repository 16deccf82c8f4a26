import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { DIALECTS, OUR_NUMBER, startTestApp, type TestApp } from "./helpers/app.ts";
import { SANDBOX, getProfile, putProfile, startSandbox } from "./helpers/sandbox.ts";
import { V2, assertRenderError } from "./helpers/v2.ts";

const handleUrl = (handle: string) => `${SANDBOX}/handles/${encodeURIComponent(handle)}`;

/** Profiles of simulated devices (GET/PUT/DELETE /openlinq/v1/handles/{handle}) and the clock endpoints. */
for (const dialect of DIALECTS) {
  describe(`simulator: handle profiles and the clock (${dialect})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startSandbox(dialect);
    });
    after(async () => {
      await t.close();
    });

    it("gives every handle the defaults until set: iMessage, reachable, no latency", async () => {
      const profile = await getProfile(t, "+15551234567");
      assert.deepEqual(profile, {
        handle: "+15551234567",
        service: "iMessage",
        reachable: true,
        latency_ms: 0,
        jitter_ms: 0,
        read_after_ms: null,
        auto_reply: { type: "none" },
        auto_reaction: null,
        script_position: 0,
        stored: false,
        magic: null,
        updated_at: null,
        device: { sees_our_typing: [], read_receipts: [], contact_cards: [], typing: [] },
      });
      const byNational = await t.request("GET", `${SANDBOX}/handles/5551234567`);
      assert.equal(byNational.body.data.handle, "+15551234567", "handles are normalized like chat recipients");
      const email = await getProfile(t, "Someone@Example.com");
      assert.equal(email.handle, "someone@example.com");
    });

    it("describes the magic numbers and applies their behaviour without setup", async () => {
      const res = await t.request("GET", `${SANDBOX}/magic_numbers`);
      assert.equal(res.status, 200);
      const names = res.body.data.map((m: { name: string }) => m.name);
      assert.deepEqual(names, [
        "unreachable",
        "sms-only",
        "rcs",
        "echo-bot",
        "quick-reader",
        "slow-reader",
        "slow-network",
        "tapback-fan",
        "scripted",
        "location-sharer",
      ]);
      const readme = readFileSync(new URL("../docs/simulator.md", import.meta.url), "utf8");
      const documented = [...readme.matchAll(/^\| `(\+1555\d+)` \| ([a-z-]+) \|/gm)].map((m) => [m[1], m[2]]);
      assert.deepEqual(
        documented,
        res.body.data.map((m: { handle: string; name: string }) => [m.handle, m.name]),
        "docs/simulator.md's magic number table matches the product",
      );
      const sms = await getProfile(t, "+15550100002");
      assert.equal(sms.magic, "sms-only");
      assert.equal(sms.service, "SMS");
      assert.equal(sms.stored, false);
      const check = await t.request("POST", `${V2}/i_message_availability/check`, { body: { phone_number: "+15550100002" } });
      assert.equal(check.status, 200, check.raw);
      assert.equal(check.body.available, false);
    });

    it("PUT changes the given fields, keeps the rest (magic ones too), and DELETE forgets them", async () => {
      const first = await putProfile(t, "+15551230501", { latency_ms: 250, auto_reply: { type: "echo", delay_ms: 100 } });
      assert.equal(first.stored, true);
      assert.equal(first.latency_ms, 250);
      assert.deepEqual(first.auto_reply, { type: "echo", delay_ms: 100 });
      const second = await putProfile(t, "+15551230501", { read_after_ms: 1000, auto_reaction: "laugh" });
      assert.equal(second.latency_ms, 250, "unchanged fields keep their value");
      assert.equal(second.read_after_ms, 1000);
      assert.deepEqual(second.auto_reaction, { type: "laugh", delay_ms: 0 });
      assert.match(second.updated_at, /^\d{4}-/);

      const magic = await putProfile(t, "+15550100004", { latency_ms: 5 });
      assert.equal(magic.magic, "echo-bot");
      assert.deepEqual(magic.auto_reply, { type: "echo", delay_ms: 1000 }, "a magic number's settings are the starting point");

      const listed = await t.request("GET", `${SANDBOX}/handles`);
      assert.deepEqual(listed.body.data.map((p: { handle: string }) => p.handle), ["+15550100004", "+15551230501"]);

      const forgotten = await t.request("DELETE", handleUrl("+15551230501"));
      assert.equal(forgotten.status, 200);
      assert.equal(forgotten.body.data.stored, false);
      assert.equal(forgotten.body.data.latency_ms, 0);
      assert.equal((await getProfile(t, "+15550100004")).latency_ms, 5);
    });

    it("refuses bad settings naming the field, in the render_error shape", async () => {
      const put = (handle: string, body: unknown) => t.request("PUT", handleUrl(handle), { body });
      assertRenderError(await put("+15551230502", { service: "Fax" }), 400, /service/);
      assertRenderError(await put("+15551230502", { latency_ms: -1 }), 400, /latency_ms/);
      assertRenderError(await put("+15551230502", { colour: "blue" }), 400, /additional properties|colour/);
      assertRenderError(await put("+15551230502", { auto_reply: { type: "sing" } }), 422, /auto_reply\.type must be none, echo or script/);
      assertRenderError(await put("+15551230502", { auto_reply: { type: "script", replies: [] } }), 422, /auto_reply\.replies must list 1 to 100/);
      assertRenderError(
        await put("+15551230502", { auto_reply: { type: "script", replies: [{ text: "hi", delay_ms: 1.5 }] } }),
        422,
        /auto_reply\.replies\[0\]\.delay_ms must be a whole number/,
      );
      assertRenderError(await put("+15551230502", { auto_reaction: { type: "wow" } }), 422, /auto_reaction\.type must be one of love/);
      assertRenderError(await put("someone@example.com", { service: "SMS" }), 422, /must be iMessage for an email handle/);
      assertRenderError(await put(OUR_NUMBER, { reachable: false }), 422, /one of your own numbers/);
      assertRenderError(await put("555-0000", { reachable: false }), 422, /handle/);
      assertRenderError(await t.request("GET", handleUrl("+15551230502"), { token: null }), 401);
      assert.equal((await getProfile(t, "+15551230502")).stored, false, "nothing was stored on refusal");
    });

    it("keeps each organization's profiles to itself", async () => {
      const other = await t.secondOrg();
      await putProfile(t, "+15551230503", { reachable: false });
      const theirs = await t.request("GET", handleUrl("+15551230503"), { token: other.token });
      assert.equal(theirs.body.data.reachable, true);
      const check = await t.request("POST", `${V2}/i_message_availability/check`, {
        token: other.token,
        body: { phone_number: "+15550100001" },
      });
      assert.equal(check.status, 200, check.raw);
      assert.equal(check.body.available, false, "magic numbers behave the same for every organization");
    });

    it("shows the virtual clock and moves it only forward, by ms or to a time", async () => {
      const clock = await t.request("GET", `${SANDBOX}/clock`);
      assert.equal(clock.body.data.mode, "virtual");
      assert.equal(clock.body.data.random_seed, 7);
      const start = Date.parse(clock.body.data.now);
      const moved = await t.request("POST", `${SANDBOX}/clock/advance`, { body: { ms: 90_000 } });
      assert.equal(Date.parse(moved.body.data.now) - start, 90_000);
      const target = new Date(start + 3_600_000).toISOString();
      const to = await t.request("POST", `${SANDBOX}/clock/advance`, { body: { to: target } });
      assert.equal(to.body.data.now, target);
      assertRenderError(await t.request("POST", `${SANDBOX}/clock/advance`, { body: { to: new Date(start).toISOString() } }), 422, /only moves forward/);
      assertRenderError(await t.request("POST", `${SANDBOX}/clock/advance`, { body: {} }), 400, /exactly one of ms/);
      assertRenderError(await t.request("POST", `${SANDBOX}/clock/advance`, { body: { ms: 1, to: target } }), 400, /exactly one/);
      assertRenderError(await t.request("POST", `${SANDBOX}/clock/advance`, { body: { ms: -5 } }), 400);
    });

    it("refuses to move the system clock", async () => {
      const system = await startTestApp(dialect);
      try {
        const clock = await system.request("GET", `${SANDBOX}/clock`);
        assert.equal(clock.body.data.mode, "system");
        assertRenderError(
          await system.request("POST", `${SANDBOX}/clock/advance`, { body: { ms: 1000 } }),
          409,
          /OPENLINQ_CLOCK=virtual/,
        );
      } finally {
        await system.close();
      }
    });
  });
}
