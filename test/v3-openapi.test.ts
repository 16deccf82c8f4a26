import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, startTestApp, type TestApp } from "./helpers/app.ts";

/** Every V3 operation of the official client (0.28.2), plus the legacy attachment status update. */
const V3_OPERATIONS = [
  "POST /chats",
  "GET /chats",
  "GET /chats/{chatId}",
  "PUT /chats/{chatId}",
  "POST /chats/{chatId}/read",
  "POST /chats/{chatId}/leave",
  "POST /chats/{chatId}/share_contact_card",
  "POST /chats/{chatId}/voicememo",
  "POST /chats/{chatId}/participants",
  "DELETE /chats/{chatId}/participants",
  "POST /chats/{chatId}/typing",
  "DELETE /chats/{chatId}/typing",
  "POST /chats/{chatId}/messages",
  "GET /chats/{chatId}/messages",
  "POST /chats/{chatId}/location/request",
  "GET /chats/{chatId}/location",
  "POST /messages",
  "GET /messages/{messageId}",
  "PATCH /messages/{messageId}",
  "DELETE /messages/{messageId}",
  "POST /messages/{messageId}/reactions",
  "GET /messages/{messageId}/thread",
  "POST /messages/{messageId}/update",
  "POST /attachments",
  "GET /attachments/{attachmentId}",
  "DELETE /attachments/{attachmentId}",
  "PUT /attachments/{attachmentId}",
  "GET /phone_numbers",
  "PUT /phone_numbers/{phoneNumberId}",
  "GET /phonenumbers",
  "GET /available_number",
  "POST /capability/check_imessage",
  "POST /capability/check_rcs",
  "GET /contact_card",
  "POST /contact_card",
  "PATCH /contact_card",
  "GET /webhook-events",
  "POST /webhook-subscriptions",
  "GET /webhook-subscriptions",
  "GET /webhook-subscriptions/{subscriptionId}",
  "PUT /webhook-subscriptions/{subscriptionId}",
  "DELETE /webhook-subscriptions/{subscriptionId}",
];

for (const dialect of DIALECTS) {
  describe(`V3 OpenAPI document next to the V2 one (${dialect})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(dialect);
    });
    after(() => t.close());

    it("lists every V3 operation, with the Bearer scheme and nothing of V2", async () => {
      const res = await t.request("GET", "/openlinq/v1/openapi/v3.json", { token: null });
      assert.equal(res.status, 200);
      const document = res.body;
      assert.match(document.openapi, /^3\./);
      assert.match(document.info.title, /V3/);
      assert.deepEqual(document.components.securitySchemes.BearerAuth, { type: "http", scheme: "bearer" });
      assert.deepEqual(document.security, [{ BearerAuth: [] }]);
      const listed = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
        Object.keys(methods).map((m) => `${m.toUpperCase()} ${path.slice("/api/partner/v3".length)}`),
      );
      assert.deepEqual(listed.sort(), [...V3_OPERATIONS].sort());
      const create = document.paths["/api/partner/v3/webhook-subscriptions"].post;
      assert.ok(create.responses["201"].content["application/json"].schema.properties.signing_secret);
    });

    it("keeps V2 and openlinq's endpoints in the V2 document, and /docs offers both", async () => {
      const v2 = (await t.request("GET", "/openlinq/v1/openapi.json", { token: null })).body;
      const paths = Object.keys(v2.paths);
      assert.ok(paths.some((p) => p.startsWith("/api/partner/v2/")));
      assert.ok(paths.some((p) => p.startsWith("/openlinq/v1/")));
      assert.equal(paths.filter((p) => p.startsWith("/api/partner/v3/")).length, 0);
      const initializer = await t.request("GET", "/docs/static/swagger-initializer.js", { token: null });
      assert.equal(initializer.status, 200);
      assert.match(initializer.raw, /\/openlinq\/v1\/openapi\.json/);
      assert.match(initializer.raw, /\/openlinq\/v1\/openapi\/v3\.json/);
    });
  });
}
