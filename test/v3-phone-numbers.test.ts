import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS } from "./helpers/app.ts";
import { addPhoneNumber } from "../src/core/accounts/accounts.service.ts";
import { expectV3Error, OUR_NUMBER, startV3App, text, type V3TestApp } from "./helpers/v3.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

for (const dialect of DIALECTS) {
  describe(`V3 phone numbers, available number and capability checks (${dialect})`, () => {
    let app: V3TestApp;
    before(async () => {
      app = await startV3App(dialect);
    });
    after(() => app.close());

    it("lists lines and sets or clears their forwarding number by line id", async () => {
      const { phone_numbers } = await app.client.phoneNumbers.list();
      assert.equal(phone_numbers.length, 1);
      const line = phone_numbers[0]!;
      assert.match(line.id, UUID);
      assert.equal(line.phone_number, OUR_NUMBER);
      assert.equal(line.forwarding_number, null);
      assert.equal(line.reputation.status, "HEALTHY");
      assert.deepEqual(line.health_status, line.reputation);
      const updated = await app.client.phoneNumbers.update(line.id, { forwarding_number: "+15557654321" });
      assert.deepEqual(updated, { id: line.id, phone_number: OUR_NUMBER, forwarding_number: "+15557654321" });
      assert.equal((await app.client.phoneNumbers.list()).phone_numbers[0]!.forwarding_number, "+15557654321");
      const cleared = await app.client.phoneNumbers.update(line.id, { forwarding_number: null });
      assert.equal(cleared.forwarding_number, null);
      await expectV3Error(app.client.phoneNumbers.update(line.id, { forwarding_number: "555-765-4321" }), 400, 1002);
      await expectV3Error(app.client.phoneNumbers.update(OUR_NUMBER, { forwarding_number: null }), 404, 2019);
      const other = await app.t.secondOrg();
      await expectV3Error(app.clientFor(other.token).phoneNumbers.update(line.id, { forwarding_number: null }), 404, 2019);
    });

    it("serves the deprecated phonenumbers list", async () => {
      const { phone_numbers } = await app.client.phonenumbers.list();
      assert.deepEqual(phone_numbers, [
        {
          id: (await app.client.phoneNumbers.list()).phone_numbers[0]!.id,
          phone_number: OUR_NUMBER,
          capabilities: { sms: true, mms: true, voice: true },
          country_code: null,
          type: null,
        },
      ]);
    });

    it("names an available number: the line already talking to the recipients, else the least used one", async () => {
      const second = "+19998880000";
      await addPhoneNumber(app.t.openlinq.deps, second, 1);
      await app.client.chats.create({ from: OUR_NUMBER, to: ["+15550020001"], message: text("hi") });
      const sticky = await app.client.availableNumber.retrieve({ to: ["+15550020001"] });
      assert.equal(sticky.phone_number, OUR_NUMBER);
      const fresh = await app.client.availableNumber.retrieve();
      assert.equal(fresh.phone_number, second, "the line with fewer chats");
      const card = await fetch(fresh.vcf_url);
      assert.equal(card.status, 200);
      assert.match(card.headers.get("content-type") ?? "", /^text\/vcard/);
      const body = await card.text();
      assert.match(body, /TEL;TYPE=CELL,PREF:\+19998880000/);
      assert.match(body, /TEL;TYPE=CELL:\+19998887777/);
      await expectV3Error(app.client.availableNumber.retrieve({ to: ["555"] }), 400, 1002);
    });

    it("checks iMessage and RCS capability against the simulated devices", async () => {
      assert.deepEqual(await app.client.capability.checkIMessage({ address: "+15550030001" }), {
        address: "+15550030001",
        available: true,
      });
      assert.equal((await app.client.capability.checkIMessage({ address: "+15550100002" })).available, false);
      assert.equal((await app.client.capability.checkRCS({ address: "+15550100003" })).available, true);
      assert.equal((await app.client.capability.checkRCS({ address: "+15550030001", from: OUR_NUMBER })).available, false);
      await expectV3Error(app.client.capability.checkIMessage({ address: "5550030001" }), 400, 1002);
      await expectV3Error(app.client.capability.checkRCS({ address: "+15550030001", from: "+15550000000" }), 403, 2006);
    });
  });
}
