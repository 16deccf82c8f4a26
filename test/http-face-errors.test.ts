import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Fastify from "fastify";
import { DomainError, fieldError } from "../src/core/errors.ts";
import { registerV3Errors } from "../src/http/v3/errors.ts";
import { wireFieldName } from "../src/http/errors.ts";

/** The V3 error envelope as a V3 face plugin gets it from registerV3Errors. */
async function v3Face() {
  const app = Fastify();
  app.decorate("bodyLimits", { jsonBytes: 1024, attachmentBytes: 1024 });
  await app.register(
    async (face) => {
      registerV3Errors(face);
      face.post(
        "/things",
        { schema: { body: { type: "object", required: ["name"], properties: { name: { type: "string" } } } } },
        async () => {
          throw fieldError("invalid_phone_number", "recipients[1]", ': "12" is not a valid phone number');
        },
      );
      face.get("/limited", async () => {
        throw new DomainError("rate_limited", "Rate limit exceeded", { retryAfter: 7 });
      });
      face.get("/conflict", async () => {
        throw new DomainError("conflict", "chat already exists");
      });
      face.get("/boom", async () => {
        throw new Error("secret internals");
      });
    },
    { prefix: "/v3" },
  );
  return app;
}

describe("face error envelopes", () => {
  it("V3: domain codes become Linq's integer codes, fields get V3 names, every body has a trace id", async () => {
    const app = await v3Face();
    const phone = await app.inject({ method: "POST", url: "/v3/things", payload: { name: "x" } });
    assert.equal(phone.statusCode, 400);
    const body = phone.json();
    assert.equal(body.success, false);
    assert.deepEqual(body.error, { status: 400, code: 1002, message: 'to[1]: "12" is not a valid phone number' });
    assert.match(body.trace_id, /^[0-9a-f]{32}$/);
    assert.equal(phone.headers["x-trace-id"], body.trace_id);

    const schema = await app.inject({ method: "POST", url: "/v3/things", payload: {} });
    assert.equal(schema.statusCode, 400);
    assert.equal(schema.json().error.code, 1001, "a missing field has its own code");
    assert.match(schema.json().error.message, /name/);

    const limited = await app.inject({ method: "GET", url: "/v3/limited" });
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.headers["retry-after"], "7");
    assert.deepEqual(limited.json().error, { status: 429, code: 1007, message: "Rate limit exceeded", retry_after: 7 });

    const conflict = await app.inject({ method: "GET", url: "/v3/conflict" });
    assert.equal(conflict.statusCode, 409);
    assert.equal(conflict.headers["x-should-retry"], "false");

    const missing = await app.inject({ method: "GET", url: "/v3/nothing-here" });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 2001);

    const boom = await app.inject({ method: "GET", url: "/v3/boom" });
    assert.equal(boom.statusCode, 500);
    assert.equal(boom.json().error.code, 3006);
    assert.ok(!boom.body.includes("secret internals"));
    await app.close();
  });

  it("domain field paths map to wire names by prefix, the rest snake_cased", () => {
    assert.equal(wireFieldName("message.idempotencyKey"), "message.idempotency_key");
    assert.equal(wireFieldName("message.text", { message: "" }), "text");
    assert.equal(wireFieldName("recipients[2]", { recipients: "chat.phone_numbers" }), "chat.phone_numbers[2]");
    assert.equal(wireFieldName("sender", { sender: "send_from", senderX: "no" }), "send_from");
    assert.equal(wireFieldName("senderName", { sender: "send_from" }), "sender_name");
  });
});
