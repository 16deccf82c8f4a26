import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, OUR_NUMBER, startTestApp, type TestApp, type TestResponse } from "./helpers/app.ts";
import { V2, assertRenderError, assertStandardError, countChats, createChat } from "./helpers/v2.ts";
import { V2_OPERATIONS, type Operation, type ResourceIds } from "./helpers/v2-operations.ts";

const RECIPIENT = "+15557770001";
const CONTACT_EMAIL = "isolated@example.com";

function assertErrorShape(op: Operation, res: TestResponse, status: number, code?: string): string {
  return op.errorShape === "render"
    ? assertRenderError(res, status)
    : assertStandardError(res, status, code);
}

/** Everything org one can read about its own resources, to prove failures changed nothing. */
async function snapshot(t: TestApp, ids: ResourceIds) {
  const get = async (url: string) => {
    const res = await t.request("GET", url);
    assert.equal(res.status, 200, `${url}: ${res.raw}`);
    return res.body;
  };
  return {
    chats: await get(`${V2}/chats?phone_number=${encodeURIComponent(OUR_NUMBER)}&per_page=100`),
    messages: await get(`${V2}/chats/${ids.chatId}/chat_messages?per_page=100`),
    reaction: await get(`${V2}/chat_message_reactions/${ids.reactionId}`),
    contacts: await get(`${V2}/contacts?per_page=100`),
    phoneNumbers: await get(`${V2}/phone_numbers`),
    // Delivery bookkeeping moves on its own (the worker runs); the subscription itself must not.
    subscriptions: (await get(`${V2}/webhook_subscriptions`)).webhook_subscriptions.map(
      ({ delivery_attempts: _a, last_delivered_at: _l, ...subscription }: Record<string, unknown>) => subscription,
    ),
  };
}

for (const dialect of DIALECTS) {
  describe(`V2 auth, isolation and request limits (${dialect})`, () => {
    let t: TestApp;
    let ids: ResourceIds;
    let before_: Awaited<ReturnType<typeof snapshot>>;
    before(async () => {
      t = await startTestApp(dialect);
      const chat = await createChat(t, [RECIPIENT], "private message");
      const reaction = await t.request("POST", `${V2}/chat_messages/${chat.chat_messages.id}/reactions`, {
        body: { type: "love", operation: "add" },
      });
      const contact = await t.request("POST", `${V2}/contacts`, {
        body: { contact: { first_name: "Private", email: CONTACT_EMAIL, phone_number: RECIPIENT } },
      });
      const subscription = await t.request("POST", `${V2}/webhook_subscriptions`, {
        body: { webhook_url: "https://org-one.example.com/hook", version: 2, events: ["message.sent"] },
      });
      const numbers = await t.request("GET", `${V2}/phone_numbers`);
      ids = {
        chatId: chat.id,
        messageId: chat.chat_messages.id,
        reactionId: reaction.body.data.id,
        contactId: contact.body.data.id,
        phoneNumberId: numbers.body.phone_numbers[0].id,
        subscriptionId: subscription.body.webhook_subscription.id,
      };
      before_ = await snapshot(t, ids);
    });
    after(async () => {
      await t.close();
    });

    it("the operation table covers all 29 operations", () => {
      assert.equal(V2_OPERATIONS.length, 29);
      assert.equal(new Set(V2_OPERATIONS.map((op) => op.name)).size, 29);
    });

    it("every operation answers 401 without a token, with a wrong token, or with only a Bearer header", async () => {
      for (const op of V2_OPERATIONS) {
        const url = op.path(ids);
        const missing = await t.request(op.method, url, { token: null, body: op.body });
        assert.match(assertErrorShape(op, missing, 401, "UNAUTHORIZED"), /Missing integration token.*X-LINQ-INTEGRATION-TOKEN/, op.name);
        const wrong = await t.request(op.method, url, { token: "not-a-real-token", body: op.body });
        assert.match(assertErrorShape(op, wrong, 401, "UNAUTHORIZED"), /Invalid integration token/, op.name);
        const bearer = await t.request(op.method, url, {
          token: null,
          body: op.body,
          headers: { authorization: `Bearer ${t.token}` },
        });
        assertErrorShape(op, bearer, 401, "UNAUTHORIZED");
        if (op.errorShape === "render") assert.equal(missing.body.errors[0].code, "unauthorized");
      }
      assert.deepEqual(await snapshot(t, ids), before_);
    });

    it("another organization's token gets 404 for every id of ours, never 403 and never our data", async () => {
      const other = await t.secondOrg();
      for (const op of V2_OPERATIONS.filter((o) => o.byId)) {
        const res = await t.request(op.method, op.path(ids), { token: other.token, body: op.body });
        assertErrorShape(op, res, 404);
        for (const secret of [RECIPIENT, CONTACT_EMAIL, "private message", OUR_NUMBER, "org-one.example.com"]) {
          assert.ok(!res.raw.includes(secret), `${op.name} leaked ${secret}: ${res.raw}`);
        }
      }
      assert.deepEqual(await snapshot(t, ids), before_);
    });

    it("another organization's lists and lookups show nothing of ours", async () => {
      const other = await t.secondOrg();
      const as = (method: string, url: string, body?: unknown) => t.request(method, url, { token: other.token, body });
      assert.equal(await countChats(t, other.number, other.token), 0);
      // Our number is not theirs to use or to look through: as a participant it takes part in none of their chats.
      assert.equal(await countChats(t, OUR_NUMBER, other.token), 0);
      assertRenderError(
        await as("GET", `${V2}/chats/find?phone_number=${encodeURIComponent(OUR_NUMBER)}&phone_numbers[]=${encodeURIComponent(RECIPIENT)}`),
        422,
      );
      assertRenderError(
        await as("POST", `${V2}/chats`, { send_from: OUR_NUMBER, chat: { phone_numbers: [RECIPIENT] }, message: { text: "x" } }),
        422,
        /send_from/,
      );
      const found = await as("GET", `${V2}/chats/find?phone_number=${encodeURIComponent(other.number)}&phone_numbers[]=${encodeURIComponent(RECIPIENT)}`);
      assert.deepEqual(found.body, { data: { chat: null, messages: [] } });
      assert.deepEqual((await as("GET", `${V2}/contacts`)).body.contacts, []);
      assert.deepEqual((await as("GET", `${V2}/contacts/find?email=${encodeURIComponent(CONTACT_EMAIL)}`)).body, { contact: null });
      assert.deepEqual((await as("GET", `${V2}/contacts/find?phone_number=${encodeURIComponent(RECIPIENT)}`)).body, { contact: null });
      assert.deepEqual(
        (await as("GET", `${V2}/phone_numbers`)).body.phone_numbers.map((n: any) => n.phone_number),
        [other.number],
      );
      assert.deepEqual((await as("GET", `${V2}/webhook_subscriptions`)).body, { webhook_subscriptions: [] });

      // What they create stays theirs: same recipient, separate chat; their writes do not show up for us.
      const theirs = await createChat(t, [RECIPIENT], "their message", { token: other.token, sendFrom: other.number });
      assert.notEqual(theirs.id, ids.chatId);
      assert.equal(theirs.message_count, 1);
      await as("POST", `${V2}/contacts`, { contact: { first_name: "Theirs", email: CONTACT_EMAIL } });
      await as("POST", `${V2}/webhook_subscriptions`, { webhook_url: "https://org-two.example.com/", version: 2, events: ["message.sent"] });
      assertRenderError(await t.request("GET", `${V2}/chats/${theirs.id}`), 404);
      assert.deepEqual(await snapshot(t, ids), before_);
    });

    it("malformed JSON is a 400 in each operation's error shape, and changes nothing", async () => {
      for (const op of V2_OPERATIONS.filter((o) => o.method !== "GET")) {
        const res = await t.request(op.method, op.path(ids), {
          payload: '{"unterminated": ',
          headers: { "content-type": "application/json" },
        });
        assert.match(assertErrorShape(op, res, 400, "BAD_REQUEST"), /Malformed JSON/, op.name);
      }
      assert.deepEqual(await snapshot(t, ids), before_);
    });

    it("a JSON body over 1 MiB is a 413 in the endpoint's shape", async () => {
      const text = "x".repeat(1024 * 1024 + 1);
      assertRenderError(
        await t.request("POST", `${V2}/chats`, {
          body: { send_from: OUR_NUMBER, chat: { phone_numbers: ["+15550003333"] }, message: { text } },
        }),
        413,
        /larger than the limit/,
      );
      assertRenderError(await t.request("POST", `${V2}/chats/${ids.chatId}/chat_messages`, { body: { text } }), 413);
      assertStandardError(await t.request("POST", `${V2}/contacts`, { body: { contact: { first_name: text } } }), 413, "PAYLOAD_TOO_LARGE");
      assertStandardError(
        await t.request("POST", `${V2}/webhook_subscriptions`, { body: { webhook_url: `https://a.example.com/${text}`, version: 2, events: ["message.sent"] } }),
        413,
        "PAYLOAD_TOO_LARGE",
      );
      assert.deepEqual(await snapshot(t, ids), before_);
    });

    it("form bodies use the same bracketed keys; keys reaching Object.prototype are refused", async () => {
      const form = await t.request("POST", `${V2}/chats/${ids.chatId}/chat_messages`, {
        payload: "message[text]=sent+as+a+form&message[idempotency_key]=form-1",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      assert.equal(form.status, 201, form.raw);
      assert.equal(form.body.data.text, "sent as a form");
      await t.request("DELETE", `${V2}/chats/${ids.chatId}/chat_messages/${form.body.data.id}`);

      const polluting = await t.multipart("POST", `${V2}/chats/${ids.chatId}/chat_messages`, [
        ["message[text]", "x"],
        ["__proto__[polluted]", "yes"],
      ]);
      assertRenderError(polluting, 400, /__proto__/);
      const pollutingForm = await t.request("POST", `${V2}/contacts`, {
        payload: "contact[first_name]=X&contact[__proto__][polluted]=yes",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      assertStandardError(pollutingForm, 400, "BAD_REQUEST");
      assert.equal(({} as Record<string, unknown>).polluted, undefined);

      const noBoundary = { payload: "message[text]=x", headers: { "content-type": "multipart/form-data" } };
      assertRenderError(await t.request("POST", `${V2}/chats/${ids.chatId}/chat_messages`, noBoundary), 400, /boundary/);
      assertRenderError(await t.request("POST", `${V2}/chats/${ids.chatId}/chat_messages`, { ...noBoundary, token: null }), 401);
      assert.deepEqual(await snapshot(t, ids), before_);
    });

    it("unknown routes answer 404 render_error", async () => {
      assertRenderError(await t.request("GET", `${V2}/chats/${ids.chatId}/participants`), 404, /No route/);
      assertRenderError(await t.request("GET", "/api/partner/v4/chats"), 404);
    });
  });

  describe(`V2 rate limits (${dialect})`, () => {
    let t: TestApp;
    before(async () => {
      // 1 request per second plus a burst of 2: the 4th and later requests at once are refused.
      t = await startTestApp(dialect, { config: { RATE_LIMIT: "1", RATE_LIMIT_BURST: "2" } });
    });
    after(async () => {
      await t.close();
    });

    /** Fires `count` identical requests at once (well inside one second). */
    const burst = (count: number, method: string, url: string, token: string) =>
      Promise.all(Array.from({ length: count }, () => t.request(method, url, { token })));

    it("answers 429 with Retry-After and RateLimit-* headers in render_error on chats", async () => {
      const responses = await burst(6, "GET", `${V2}/chats?phone_number=${encodeURIComponent(OUR_NUMBER)}`, t.token);
      const ok = responses.filter((r) => r.status === 200);
      const limited = responses.filter((r) => r.status === 429);
      assert.equal(ok.length, 3, responses.map((r) => r.status).join(","));
      assert.equal(limited.length, 3);
      for (const res of ok) assert.equal(res.headers["ratelimit-limit"], "1");
      for (const res of limited) {
        assertRenderError(res, 429, /Rate limit exceeded/);
        assert.equal(res.body.errors[0].code, "rate_limited");
        assert.ok(Number(res.headers["retry-after"]) >= 1, `Retry-After ${res.headers["retry-after"]}`);
        assert.equal(res.headers["ratelimit-limit"], "1");
        assert.equal(res.headers["ratelimit-remaining"], "0");
        assert.ok(Number(res.headers["ratelimit-reset"]) >= 0);
      }
    });

    it("answers 429 in the standard shape on contacts; each token has its own allowance", async () => {
      const other = await t.secondOrg();
      const responses = await burst(6, "GET", `${V2}/contacts`, other.token);
      const limited = responses.filter((r) => r.status === 429);
      assert.equal(limited.length, 3, responses.map((r) => r.status).join(","));
      for (const res of limited) {
        assertStandardError(res, 429, "RATE_LIMITED", /Rate limit exceeded/);
        assert.ok(Number(res.headers["retry-after"]) >= 1);
      }
      // A third organization is not held back by the first two.
      const third = await t.secondOrg();
      assert.equal((await t.request("GET", `${V2}/webhook_subscriptions`, { token: third.token })).status, 200);
    });
  });
}
