import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS } from "./helpers/app.ts";
import { expectV3Error, OUR_NUMBER, startV3App, text, type V3TestApp } from "./helpers/v3.ts";

const FAULTS = "/openlinq/v1/faults";

for (const dialect of DIALECTS) {
  describe(`API faults on the V3 face, through @linqapp/sdk (${dialect})`, () => {
    let app: V3TestApp;
    let chatId: string;

    before(async () => {
      app = await startV3App(dialect, { config: { RANDOM_SEED: "7" } });
      const { chat } = await app.client.chats.create({ from: OUR_NUMBER, to: ["+15557770301"], message: text("first") });
      chatId = chat.id;
    });
    after(async () => app?.close());

    const addFault = async (body: Record<string, unknown>) => {
      const created = await app.t.request("POST", FAULTS, { body });
      assert.equal(created.status, 201, created.raw);
      return created.body.fault as { id: number };
    };

    it("answers an injected 429 in V3's envelope with retry_after, then lets requests through", async () => {
      const fault = await addFault({ method: "POST", path: "/api/partner/v3/chats/*/messages", status: 429, retry_after: 4, count: 1 });
      const error = await expectV3Error(app.client.chats.messages.send(chatId, { message: text("hi") }), 429, 1007);
      const body = error.error as { error: { retry_after?: number; message: string } };
      assert.equal(body.error.retry_after, 4);
      assert.match(body.error.message, new RegExp(`injected by fault ${fault.id}`));
      assert.equal(error.headers?.get("retry-after"), "4");
      assert.equal(error.headers?.get("x-openlinq-fault"), String(fault.id));

      const sent = await app.client.chats.messages.send(chatId, { message: text("hi again") });
      assert.ok(sent.message.id, "the count was one: the next send goes through");
    });

    it("answers injected 500, 502 and 503 with V3's server error code on reads", async () => {
      for (const status of [500, 502, 503]) {
        await addFault({ method: "GET", path: "/api/partner/v3/chats/*", status, count: 1 });
        await expectV3Error(app.client.chats.retrieve(chatId), status, 3006);
      }
      const chat = await app.client.chats.retrieve(chatId);
      assert.equal(chat.id, chatId);
    });

    it("leaves V2 routes alone when the pattern names V3, and stops when deleted", async () => {
      const fault = await addFault({ path: "/api/partner/v3/**", status: 503 });
      assert.equal((await app.t.request("GET", "/api/partner/v2/phone_numbers")).status, 200);
      await expectV3Error(app.client.phoneNumbers.list(), 503, 3006);
      assert.equal((await app.t.request("DELETE", `${FAULTS}/${fault.id}`)).status, 204);
      const numbers = await app.client.phoneNumbers.list();
      assert.ok(numbers.phone_numbers.some((n) => n.phone_number === OUR_NUMBER));
      const hits = (await app.t.request("GET", `${FAULTS}/hits`)).body.hits as { fault_id: number; path: string; status: number }[];
      assert.deepEqual(
        hits.filter((h) => h.fault_id === fault.id).map((h) => [h.path, h.status]),
        [["/api/partner/v3/phone_numbers", 503]],
      );
    });
  });
}
