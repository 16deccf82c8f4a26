import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, OUR_NUMBER, startTestApp, type TestApp } from "./helpers/app.ts";
import { V2, assertRenderError } from "./helpers/v2.ts";

for (const dialect of DIALECTS) {
  describe(`V2 phone numbers and iMessage availability (${dialect})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(dialect);
    });
    after(async () => {
      await t.close();
    });

    const list = async () => {
      const res = await t.request("GET", `${V2}/phone_numbers`);
      assert.equal(res.status, 200);
      return res.body.phone_numbers;
    };

    it("lists the org's numbers unpaginated, with the quickstart's user object", async () => {
      const res = await t.request("GET", `${V2}/phone_numbers`);
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.body), ["phone_numbers"]);
      const [number] = res.body.phone_numbers;
      assert.equal(res.body.phone_numbers.length, 1);
      assert.deepEqual(number, {
        id: number.id,
        phone_number: OUR_NUMBER,
        forwarding_number: null,
        response_rate: 75,
        user: { id: number.user.id, name: "openlinq Admin", email: "admin@openlinq.local" },
      });
    });

    it("PUT sets the forwarding number and answers the bare phone number object", async () => {
      const [number] = await list();
      for (const [input, stored] of [
        ["+15551234567", "+15551234567"],
        ["2223334444", "+12223334444"],
      ]) {
        const res = await t.request("PUT", `${V2}/phone_numbers/${number.id}`, { body: { forwarding_number: input } });
        assert.equal(res.status, 200, res.raw);
        assert.deepEqual(res.body, { ...number, forwarding_number: stored });
        assert.equal((await list())[0].forwarding_number, stored);
      }
    });

    it("clears the forwarding number with an empty string or null", async () => {
      const [number] = await list();
      for (const clear of ["", null]) {
        await t.request("PUT", `${V2}/phone_numbers/${number.id}`, { body: { forwarding_number: "+15551234567" } });
        const res = await t.request("PUT", `${V2}/phone_numbers/${number.id}`, { body: { forwarding_number: clear } });
        assert.equal(res.status, 200, res.raw);
        assert.equal(res.body.forwarding_number, null);
        assert.equal((await list())[0].forwarding_number, null);
      }
    });

    it("refuses bad forwarding numbers, naming the field and the accepted formats, and keeps the old one", async () => {
      const [number] = await list();
      const url = `${V2}/phone_numbers/${number.id}`;
      await t.request("PUT", url, { body: { forwarding_number: "+15550001111" } });
      for (const bad of ["555-123-4567", "(555) 123-4567", "call me"]) {
        const detail = assertRenderError(await t.request("PUT", url, { body: { forwarding_number: bad } }), 422);
        assert.match(detail, /forwarding_number/);
        assert.ok(detail.includes("+12223334444") && detail.includes("2223334444"), detail);
      }
      assertRenderError(await t.request("PUT", url, { body: {} }), 400, /forwarding_number/);
      assertRenderError(await t.request("PUT", url, { body: { forwarding_number: { n: 1 } } }), 400, /forwarding_number/);
      assertRenderError(await t.request("PUT", `${V2}/phone_numbers/424242`, { body: { forwarding_number: "" } }), 404, /Phone number not found/);
      assertRenderError(await t.request("PUT", `${V2}/phone_numbers/99999999999`, { body: { forwarding_number: "" } }), 404);
      assert.equal((await list())[0].forwarding_number, "+15550001111");
    });

    it("checks iMessage availability: 200 {available, phone_number}, then 429 within 10 s for the same token", async () => {
      const res = await t.request("POST", `${V2}/i_message_availability/check`, { body: { phone_number: "2223334444" } });
      assert.equal(res.status, 200, res.raw);
      assert.deepEqual(res.body, { available: true, phone_number: "+12223334444" });
      const again = await t.request("POST", `${V2}/i_message_availability/check`, { body: { phone_number: "+15551234567" } });
      assertRenderError(again, 429, /try again after 10 seconds/);
      const retryAfter = Number(again.headers["retry-after"]);
      assert.ok(retryAfter >= 1 && retryAfter <= 10, `Retry-After ${retryAfter}`);
      assert.equal(again.headers["ratelimit-limit"], "1");
      assert.equal(again.headers["ratelimit-remaining"], "0");
      // Another organization's token has its own allowance.
      const other = await t.secondOrg();
      const theirs = await t.request("POST", `${V2}/i_message_availability/check`, {
        token: other.token,
        body: { phone_number: "+15551234567" },
      });
      assert.equal(theirs.status, 200, theirs.raw);
      // Other endpoints are not held back by this limit.
      assert.equal((await t.request("GET", `${V2}/phone_numbers`)).status, 200);
    });

    it("refuses malformed availability checks", async () => {
      // Each check spends the token's one request per 10 s, so every case gets a fresh org.
      const cases: [unknown, number, RegExp][] = [
        [{ phone_number: "555-123-4567" }, 422, /phone_number.*\+12223334444/],
        [{}, 400, /phone_number/],
        [{ phone_number: ["+15551234567", "+15551234568"] }, 400, /phone_number/],
      ];
      for (const [body, status, detail] of cases) {
        const org = await t.secondOrg();
        assertRenderError(await t.request("POST", `${V2}/i_message_availability/check`, { token: org.token, body }), status, detail);
      }
    });
  });
}
