import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createToken } from "../src/core/accounts/accounts.service.ts";
import { pathPatternRegExp } from "../src/core/faults/api-fault.ts";
import { DIALECTS, startTestApp, type TestApp } from "./helpers/app.ts";
import { V2, assertRenderError, assertStandardError, createChat } from "./helpers/v2.ts";

const FAULTS = "/openlinq/v1/faults";

describe("fault path patterns", () => {
  it("matches * within one segment and ** across segments", () => {
    const one = pathPatternRegExp("/api/partner/v2/chats/*/chat_messages");
    assert.ok(one.test("/api/partner/v2/chats/12/chat_messages"));
    assert.ok(!one.test("/api/partner/v2/chats/12/x/chat_messages"));
    assert.ok(!one.test("/api/partner/v2/chats/12/chat_messages/3"));
    const any = pathPatternRegExp("/api/partner/v2/**");
    assert.ok(any.test("/api/partner/v2/chats/1/chat_messages"));
    assert.ok(!any.test("/openlinq/v1/faults"));
    assert.ok(pathPatternRegExp("/api/partner/v2/chats").test("/api/partner/v2/chats/"));
    assert.ok(!pathPatternRegExp("/a.b").test("/axb"), "dots are literal");
  });
});

for (const dialect of DIALECTS) {
  describe(`API fault injection (${dialect})`, () => {
    let t: TestApp;
    let chatId: number;

    before(async () => {
      t = await startTestApp(dialect, { config: { RANDOM_SEED: "42" } });
      chatId = (await createChat(t, ["+15557770101"])).id;
    });
    after(async () => t?.close());

    const send = (token?: string) =>
      t.request("POST", `${V2}/chats/${chatId}/chat_messages`, { body: { message: { text: "hi" } }, token });

    it("answers 429 with Retry-After for the next N matching requests, in the route's envelope", async () => {
      const created = await t.request("POST", FAULTS, {
        body: { method: "post", path: "/api/partner/v2/chats/*/chat_messages", status: 429, retry_after: 7, count: 2 },
      });
      assert.equal(created.status, 201, created.raw);
      const fault = created.body.fault;
      assert.equal(fault.method, "POST");
      assert.equal(fault.active, true);

      for (let i = 0; i < 2; i += 1) {
        const res = await send();
        assertRenderError(res, 429, /injected by fault/);
        assert.equal(res.headers["retry-after"], "7");
        assert.equal(res.headers["x-openlinq-fault"], String(fault.id));
      }
      assert.equal((await send()).status, 201, "the third request is past the count");
      // Other methods and paths were never touched.
      assert.equal((await t.request("GET", `${V2}/chats/${chatId}/chat_messages`)).status, 200);

      const listed = await t.request("GET", FAULTS);
      assert.equal(listed.status, 200);
      const after_ = listed.body.faults.find((f: { id: number }) => f.id === fault.id);
      assert.equal(after_.hits, 2);
      assert.equal(after_.matched, 2, "the request past the count no longer matched");
      assert.equal(after_.active, false);
      const hits = (await t.request("GET", `${FAULTS}/hits`)).body.hits;
      assert.deepEqual(
        hits.filter((h: { fault_id: number }) => h.fault_id === fault.id).map((h: { status: number; method: string }) => [h.status, h.method]),
        [[429, "POST"], [429, "POST"]],
      );
      assert.equal((await t.request("DELETE", `${FAULTS}/${fault.id}`)).status, 204);
    });

    it("answers in the standard envelope on routes that use it", async () => {
      const created = await t.request("POST", FAULTS, { body: { path: "/api/partner/v2/contacts", status: 503, count: 1 } });
      assert.equal(created.status, 201, created.raw);
      const res = await t.request("GET", `${V2}/contacts`);
      assertStandardError(res, 503, "SERVICE_UNAVAILABLE", /injected/);
      assert.equal((await t.request("GET", `${V2}/contacts`)).status, 200);
      const bad = await t.request("POST", FAULTS, { body: { path: "/api/partner/v2/contacts", status: 502, count: 1 } });
      assert.equal(bad.status, 201);
      assertStandardError(await t.request("GET", `${V2}/contacts`), 502);
    });

    it("hits a seeded fraction of requests, the same ones on every run with the same seed", async () => {
      const pattern = async (app: TestApp, id: number) => {
        const created = await app.request("POST", FAULTS, {
          body: { method: "GET", path: "/api/partner/v2/chats/*", status: 500, fraction: 0.5 },
        });
        assert.equal(created.status, 201, created.raw);
        let statuses = "";
        for (let i = 0; i < 24; i += 1) {
          statuses += (await app.request("GET", `${V2}/chats/${id}`)).status === 500 ? "x" : ".";
        }
        await app.request("DELETE", `${FAULTS}/${created.body.fault.id}`);
        return statuses;
      };
      const other = await startTestApp(dialect, { config: { RANDOM_SEED: "42" } });
      try {
        const otherChat = (await createChat(other, ["+15557770101"])).id;
        // Two fresh apps with the same seed and history: the fault has the same id and stream.
        const fresh = await startTestApp(dialect, { config: { RANDOM_SEED: "42" } });
        try {
          const freshChat = (await createChat(fresh, ["+15557770101"])).id;
          const first = await pattern(other, otherChat);
          const second = await pattern(fresh, freshChat);
          assert.equal(first, second);
          assert.match(first, /x/);
          assert.match(first, /\./);
        } finally {
          await fresh.close();
        }
      } finally {
        await other.close();
      }
    });

    it("adds latency without changing the answer", async () => {
      const created = await t.request("POST", FAULTS, {
        body: { method: "GET", path: "/api/partner/v2/phone_numbers", latency_ms: 20, count: 1 },
      });
      assert.equal(created.status, 201, created.raw);
      const res = await t.request("GET", `${V2}/phone_numbers`);
      assert.equal(res.status, 200);
      assert.equal(res.headers["x-openlinq-fault"], String(created.body.fault.id));
      assert.equal((await t.request("GET", `${V2}/phone_numbers`)).headers["x-openlinq-fault"], undefined);
    });

    it("limits a fault to one token when asked", async () => {
      const { token: other } = await createToken(t.openlinq.deps, { orgId: t.openlinq.bootstrap.organization.id });
      const created = await t.request("POST", FAULTS, {
        body: { path: "/api/partner/v2/**", status: 500, token: other },
      });
      assert.equal(created.status, 201, created.raw);
      assert.equal(typeof created.body.fault.token_id, "number");
      assertRenderError(await t.request("GET", `${V2}/phone_numbers`, { token: other }), 500);
      assert.equal((await t.request("GET", `${V2}/phone_numbers`)).status, 200);
      assert.equal((await t.request("DELETE", FAULTS)).body.deleted >= 1, true);
      assert.equal((await t.request("GET", `${V2}/phone_numbers`, { token: other })).status, 200);
    });

    it("never touches /openlinq/v1, so faults can always be turned off", async () => {
      const created = await t.request("POST", FAULTS, { body: { path: "/**", status: 503 } });
      assert.equal(created.status, 201);
      assert.equal((await t.request("GET", `${V2}/phone_numbers`)).status, 503);
      assert.equal((await t.request("GET", FAULTS)).status, 200);
      assert.equal((await t.request("DELETE", `${FAULTS}/${created.body.fault.id}`)).status, 204);
      assert.equal((await t.request("GET", `${V2}/phone_numbers`)).status, 200);
    });

    it("keeps faults per organization", async () => {
      const second = await t.secondOrg();
      const created = await t.request("POST", FAULTS, { body: { path: "/api/partner/v2/**", status: 500 } });
      assert.equal((await t.request("GET", `${V2}/phone_numbers`, { token: second.token })).status, 200);
      assert.deepEqual((await t.request("GET", FAULTS, { token: second.token })).body.faults, []);
      assertRenderError(await t.request("DELETE", `${FAULTS}/${created.body.fault.id}`, { token: second.token }), 404);
      assert.equal((await t.request("DELETE", `${FAULTS}/${created.body.fault.id}`)).status, 204);
    });

    it("refuses bad faults with a clear 4xx and stores nothing", async () => {
      const before_ = (await t.request("GET", FAULTS)).body.faults.length;
      assertRenderError(await t.request("POST", FAULTS, { body: { path: "/x", status: 404 } }), 400);
      assertRenderError(await t.request("POST", FAULTS, { body: { path: "/x" } }), 422, /status, a latency_ms/);
      assertRenderError(await t.request("POST", FAULTS, { body: { path: "x", status: 500 } }), 422, /path/);
      assertRenderError(
        await t.request("POST", FAULTS, { body: { path: "/x", status: 500, retry_after: 3 } }),
        422,
        /retry_after/,
      );
      assertRenderError(
        await t.request("POST", FAULTS, { body: { path: "/x", status: 500, token: "nope" } }),
        422,
        /token/,
      );
      assertRenderError(await t.request("POST", FAULTS, { body: { path: "/x", status: 500, fraction: 0 } }), 400);
      assertRenderError(await t.request("DELETE", `${FAULTS}/999999`), 404, /Fault 999999/);
      assertRenderError(await t.request("GET", FAULTS, { token: null }), 401);
      assert.equal((await t.request("GET", FAULTS)).body.faults.length, before_);
    });
  });
}
