import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, startTestApp, type TestApp } from "./helpers/app.ts";
import { V2, assertStandardError } from "./helpers/v2.ts";

const JOHN = {
  first_name: "John",
  last_name: "Doe",
  email: "john@example.com",
  phone_number: "+15551234567",
  company: "Acme Corp",
  title: "CEO",
  location: "San Francisco, CA",
};

for (const dialect of DIALECTS) {
  describe(`V2 contacts (${dialect})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(dialect);
    });
    after(async () => {
      await t.close();
    });

    const create = (body: unknown) => t.request("POST", `${V2}/contacts`, { body });
    const total = async () => (await t.request("GET", `${V2}/contacts`)).body.pagination.total_count;

    describe("create, get, update, delete", () => {
      it("creates a contact: 201 {data: Contact} owned by the org's first admin", async () => {
        const res = await create({ contact: JOHN });
        assert.equal(res.status, 201, res.raw);
        const contact = res.body.data;
        assert.equal(typeof contact.id, "number");
        assert.deepEqual(
          { ...contact, id: 0, created_at: "", updated_at: "" },
          {
            id: 0,
            ...JOHN,
            full_name: "John Doe",
            image_url: null,
            created_at: "",
            updated_at: "",
            contact_owner: {
              id: contact.contact_owner.id,
              email: "admin@openlinq.local",
              first_name: "openlinq",
              last_name: "Admin",
              name: "openlinq Admin",
            },
          },
        );
        assert.equal(contact.created_at, contact.updated_at);
        const got = await t.request("GET", `${V2}/contacts/${contact.id}`);
        assert.equal(got.status, 200);
        assert.deepEqual(got.body, { data: contact });
      });

      it("normalizes any common phone format to E.164 and lower-cases the email", async () => {
        for (const phone of ["(555) 123-0001", "555-123-0001", "555.123.0001", "5551230001", "+1 555 123 0001"]) {
          const res = await create({ contact: { first_name: "Fmt", phone_number: phone, email: "Mixed@Example.COM" } });
          assert.equal(res.status, 201, `${phone}: ${res.raw}`);
          assert.equal(res.body.data.phone_number, "+15551230001");
          assert.equal(res.body.data.email, "mixed@example.com");
          assert.equal(res.body.data.full_name, "Fmt");
        }
      });

      it("takes user_email beside or inside contact; inside wins; an unknown user is 422 USER_NOT_FOUND", async () => {
        const outer = await create({ contact: { first_name: "Outer" }, user_email: "ADMIN@openlinq.local" });
        assert.equal(outer.status, 201, outer.raw);
        assert.equal(outer.body.data.contact_owner.email, "admin@openlinq.local");
        const inner = await create({
          contact: { first_name: "Inner", user_email: "admin@openlinq.local" },
          user_email: "nobody@example.com",
        });
        assert.equal(inner.status, 201, inner.raw);
        const before = await total();
        assertStandardError(
          await create({ contact: { first_name: "Ghost", user_email: "nobody@example.com" }, user_email: "admin@openlinq.local" }),
          422,
          "USER_NOT_FOUND",
          /nobody@example\.com/,
        );
        assert.equal(await total(), before);
      });

      it("refuses invalid contacts in the standard error shape and creates nothing", async () => {
        const before = await total();
        const invalid: [unknown, number, string, RegExp][] = [
          [{ contact: { company: "Acme" } }, 422, "VALIDATION_ERROR", /at least one of first_name, last_name, email or phone_number/],
          [{ contact: { first_name: "" } }, 422, "VALIDATION_ERROR", /at least one/],
          [{ contact: { first_name: "X", email: "not-an-email" } }, 422, "VALIDATION_ERROR", /contact\.email/],
          [{ contact: { first_name: "X", phone_number: "12" } }, 422, "VALIDATION_ERROR", /contact\.phone_number.*\+12223334444/],
          [{ contact: { first_name: "X".repeat(256) } }, 422, "VALIDATION_ERROR", /contact\.first_name/],
          [{ first_name: "Unwrapped" }, 422, "VALIDATION_ERROR", /contact is required/],
          [{ contact: "John" }, 400, "BAD_REQUEST", /contact/],
          [{ contact: { first_name: { a: 1 } } }, 400, "BAD_REQUEST", /first_name/],
        ];
        for (const [body, status, code, message] of invalid) {
          assertStandardError(await create(body), status, code, message);
        }
        assertStandardError(
          await t.request("POST", `${V2}/contacts`, { payload: "{", headers: { "content-type": "application/json" } }),
          400,
          "BAD_REQUEST",
          /Malformed JSON/,
        );
        assert.equal(await total(), before);
      });

      it("PUT and PATCH change only the supplied fields", async () => {
        const contact = (await create({ contact: { ...JOHN, email: "jane@example.com", first_name: "Jane" } })).body.data;
        for (const [method, change] of [
          ["PUT", { title: "CTO" }],
          ["PATCH", { phone_number: "(555) 987-6543", company: "" }],
        ] as const) {
          const res = await t.request(method, `${V2}/contacts/${contact.id}`, { body: { contact: change } });
          assert.equal(res.status, 200, res.raw);
        }
        const got = (await t.request("GET", `${V2}/contacts/${contact.id}`)).body.data;
        assert.deepEqual(
          { ...got, updated_at: "" },
          { ...contact, title: "CTO", phone_number: "+15559876543", company: "", updated_at: "" },
        );
        assert.ok(got.updated_at >= contact.updated_at);
      });

      it("refuses an update that leaves nobody identifiable, and unknown users, without changing anything", async () => {
        const contact = (await create({ contact: { first_name: "Solo" } })).body.data;
        const url = `${V2}/contacts/${contact.id}`;
        assertStandardError(await t.request("PUT", url, { body: { contact: { first_name: "" } } }), 422, "VALIDATION_ERROR");
        assertStandardError(
          await t.request("PATCH", url, { body: { contact: { last_name: "Changed" }, user_email: "nobody@example.com" } }),
          422,
          "USER_NOT_FOUND",
        );
        assertStandardError(await t.request("PATCH", url, { body: { contact: { email: "bad" } } }), 422, "VALIDATION_ERROR");
        assert.deepEqual((await t.request("GET", url)).body.data, contact);
      });

      it("DELETE answers 204 and the contact is gone", async () => {
        const contact = (await create({ contact: { first_name: "Temp" } })).body.data;
        const res = await t.request("DELETE", `${V2}/contacts/${contact.id}`);
        assert.equal(res.status, 204);
        assert.equal(res.raw, "");
        assertStandardError(await t.request("GET", `${V2}/contacts/${contact.id}`), 404, "CONTACT_NOT_FOUND");
        assertStandardError(await t.request("DELETE", `${V2}/contacts/${contact.id}`), 404, "CONTACT_NOT_FOUND");
      });

      it("unknown ids answer 404 CONTACT_NOT_FOUND on every contact route", async () => {
        for (const id of ["424242", "99999999999"]) {
          const url = `${V2}/contacts/${id}`;
          const got = await t.request("GET", url);
          assertStandardError(got, 404, "CONTACT_NOT_FOUND", /^Contact not found$/);
          assertStandardError(await t.request("PUT", url, { body: { contact: { first_name: "X" } } }), 404, "CONTACT_NOT_FOUND");
          assertStandardError(await t.request("PATCH", url, { body: { contact: { first_name: "X" } } }), 404, "CONTACT_NOT_FOUND");
          assertStandardError(await t.request("DELETE", url), 404, "CONTACT_NOT_FOUND");
        }
        assertStandardError(await t.request("GET", `${V2}/contacts/abc`), 400, "BAD_REQUEST", /id/);
      });
    });

    describe("GET /contacts/find", () => {
      let found: any;
      before(async () => {
        found = (await create({ contact: { first_name: "Findable", email: "find.me@example.com", phone_number: "+13125550199" } }))
          .body.data;
      });

      it("answers the bare contact (no data wrapper) for email or any phone format", async () => {
        const queries = [
          "email=find.me%40example.com",
          "email=FIND.ME%40EXAMPLE.COM",
          "phone_number=%2B13125550199",
          "phone_number=3125550199",
          "phone_number=(312)%20555-0199",
          "phone_number=312-555-0199",
          "phone_number=312.555.0199",
          "email=nobody%40example.com&phone_number=3125550199",
        ];
        for (const query of queries) {
          const res = await t.request("GET", `${V2}/contacts/find?${query}`);
          assert.equal(res.status, 200, `${query}: ${res.raw}`);
          assert.deepEqual(res.body, found, query);
        }
      });

      it("answers {contact: null} when nothing matches", async () => {
        for (const query of ["email=nobody%40example.com", "phone_number=3125550100"]) {
          const res = await t.request("GET", `${V2}/contacts/find?${query}`);
          assert.equal(res.status, 200);
          assert.deepEqual(res.body, { contact: null });
        }
      });

      it("400 MISSING_PARAMETERS without a search parameter; 422 for malformed ones", async () => {
        for (const query of ["", "?email=", "?phone_number=%20"]) {
          assertStandardError(await t.request("GET", `${V2}/contacts/find${query}`), 400, "MISSING_PARAMETERS", /email or phone_number/);
        }
        assertStandardError(await t.request("GET", `${V2}/contacts/find?email=nope`), 422, "VALIDATION_ERROR", /email/);
        assertStandardError(await t.request("GET", `${V2}/contacts/find?phone_number=123`), 422, "VALIDATION_ERROR", /phone_number/);
      });
    });

    describe("GET /contacts", () => {
      // A fresh organization of the same app, so the counts are exact.
      let org: { token: string };
      const ids: number[] = [];
      const list = (query: string) => t.request("GET", `${V2}/contacts${query}`, { token: org.token });
      before(async () => {
        org = await t.secondOrg();
        for (let i = 0; i < 5; i++) {
          const res = await t.request("POST", `${V2}/contacts`, { token: org.token, body: { contact: { first_name: `C${i}` } } });
          ids.push(res.body.data.id);
        }
      });

      it("pages with {contacts, pagination}, oldest first", async () => {
        const res = await list("?per_page=2&page=2");
        assert.equal(res.status, 200);
        assert.deepEqual(Object.keys(res.body).sort(), ["contacts", "pagination"]);
        assert.deepEqual(res.body.pagination, { current_page: 2, per_page: 2, total_pages: 3, total_count: 5 });
        assert.deepEqual(
          res.body.contacts.map((c: any) => c.id),
          ids.slice(2, 4),
        );
        const all = await list("");
        assert.deepEqual(all.body.pagination, { current_page: 1, per_page: 25, total_pages: 1, total_count: 5 });
      });

      it("clamps per_page to 100, answers an empty page past the end, refuses bad paging", async () => {
        const clamped = await list("?per_page=101");
        assert.equal(clamped.body.pagination.per_page, 100);
        for (const page of ["2", "100000000000000000000"]) {
          const past = await list(`?page=${page}`);
          assert.equal(past.status, 200, past.raw);
          assert.deepEqual(past.body.contacts, []);
          assert.equal(past.body.pagination.total_count, 5);
        }
        assertStandardError(await list("?per_page=-1"), 400, "BAD_REQUEST", /per_page/);
        assertStandardError(await list("?page=x"), 400, "BAD_REQUEST", /page/);
      });
    });
  });
}
