import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, startTestApp, type TestApp } from "./helpers/app.ts";
import { V2_OPERATIONS } from "./helpers/v2-operations.ts";

/** Success status of each operation (Linq's V2 endpoint reference). */
const SUCCESS: Record<string, string> = {
  "PUT /chats/{chat_id}/mark_as_read": "204",
  "POST /chats/{chat_id}/start_typing": "201",
  "DELETE /chats/{chat_id}/stop_typing": "204",
  "POST /chats/{chat_id}/share_contact": "201",
  "POST /chats/{chat_id}/chat_messages": "201",
  "POST /chat_messages/{chat_message_id}/reactions": "201",
  "POST /contacts": "201",
  "DELETE /contacts/{id}": "204",
  "POST /webhook_subscriptions": "201",
  "DELETE /webhook_subscriptions/{webhook_subscription_id}": "204",
};

for (const dialect of DIALECTS) {
  describe(`OpenAPI document and docs (${dialect})`, () => {
    let t: TestApp;
    let document: any;
    before(async () => {
      t = await startTestApp(dialect);
      const res = await t.request("GET", "/openlinq/v1/openapi.json", { token: null });
      assert.equal(res.status, 200);
      document = res.body;
    });
    after(async () => {
      await t.close();
    });

    it("lists all 29 V2 operations with a summary, the success status and 401", () => {
      assert.match(document.openapi, /^3\./);
      const listed = Object.entries(document.paths as Record<string, Record<string, unknown>>)
        .filter(([path]) => path.startsWith("/api/partner/v2/"))
        .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path.slice("/api/partner/v2".length)}`));
      assert.deepEqual(listed.sort(), V2_OPERATIONS.map((op) => op.name).sort());
      for (const op of V2_OPERATIONS) {
        const [method, path] = op.name.split(" ") as [string, string];
        const operation = document.paths[`/api/partner/v2${path}`][method.toLowerCase()];
        assert.ok(operation.summary, `${op.name} has a summary`);
        assert.ok(operation.responses[SUCCESS[op.name] ?? "200"], `${op.name} documents ${SUCCESS[op.name] ?? "200"}`);
        assert.ok(operation.responses["401"], `${op.name} documents 401`);
      }
    });

    it("declares the integration token header and the multipart bodies", () => {
      assert.deepEqual(document.components.securitySchemes.ApiKeyAuth, {
        type: "apiKey",
        in: "header",
        name: "X-LINQ-INTEGRATION-TOKEN",
      });
      for (const path of ["/api/partner/v2/chats", "/api/partner/v2/chats/{chat_id}/chat_messages"]) {
        const content = document.paths[path].post.requestBody.content;
        assert.ok(content["application/json"], `${path} takes JSON`);
        assert.ok(content["multipart/form-data"], `${path} takes multipart/form-data`);
      }
    });

    it("serves the interactive docs at /docs", async () => {
      const res = await t.request("GET", "/docs", { token: null });
      assert.equal(res.status, 200);
      assert.match(String(res.headers["content-type"]), /text\/html/);
      assert.match(res.raw, /swagger/i);
    });
  });
}
