import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, startTestApp, type TestApp } from "./helpers/app.ts";
import { startReceiver } from "./helpers/receiver.ts";
import { hasValidV2Signature } from "./helpers/sandbox.ts";
import { V2, assertStandardError } from "./helpers/v2.ts";

const ALL_EVENTS = [
  "message.sent",
  "message.received",
  "message.read",
  "call.completed",
  "reaction.sent",
  "reaction.received",
  "typing_indicator.received",
  "typing_indicator.removed",
  "chat.created",
  "contact.created",
  "contact.updated",
  "contact.deleted",
  "participant.added",
  "participant.removed",
];

const ISO_MILLIS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

for (const dialect of DIALECTS) {
  describe(`V2 webhook subscriptions (${dialect})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(dialect);
    });
    after(async () => {
      await t.close();
    });

    const create = (body: unknown) => t.request("POST", `${V2}/webhook_subscriptions`, { body });
    const list = async () => {
      const res = await t.request("GET", `${V2}/webhook_subscriptions`);
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.body), ["webhook_subscriptions"]);
      return res.body.webhook_subscriptions as any[];
    };

    it("creates from the quickstart's flat body; a secret is generated and returned this once", async () => {
      const res = await create({
        webhook_url: "https://your-app.com/webhooks/linq",
        events: ["message.received", "message.sent"],
        version: 2,
        active: true,
      });
      assert.equal(res.status, 201, res.raw);
      const sub = res.body.webhook_subscription;
      assert.deepEqual(Object.keys(sub).sort(), [
        "active",
        "created_at",
        "delivery_attempts",
        "events",
        "id",
        "last_delivered_at",
        "secret",
        "secret_configured",
        "updated_at",
        "version",
        "webhook_url",
      ]);
      assert.equal(sub.webhook_url, "https://your-app.com/webhooks/linq");
      assert.deepEqual(sub.events, ["message.received", "message.sent"]);
      assert.equal(sub.version, 2);
      assert.equal(sub.active, true);
      assert.equal(sub.secret_configured, true);
      assert.equal(sub.delivery_attempts, 0);
      assert.equal(sub.last_delivered_at, null);
      assert.match(sub.created_at, ISO_MILLIS);
      assert.ok(typeof sub.secret === "string" && sub.secret.length >= 32, sub.secret);
      const listed = (await list()).find((s) => s.id === sub.id);
      const { secret: _secret, ...withoutSecret } = sub;
      assert.deepEqual(listed, withoutSecret);
    });

    it("creates from the reference's wrapped body with the caller's secret; active defaults to true", async () => {
      const res = await create({
        webhook_subscription: {
          webhook_url: "https://example.com/webhooks/linq",
          version: 2,
          secret: "your-webhook-secret-key",
          events: ["message.sent"],
        },
      });
      assert.equal(res.status, 201, res.raw);
      assert.equal(res.body.webhook_subscription.secret, "your-webhook-secret-key");
      assert.equal(res.body.webhook_subscription.active, true);
      const generated = await create({ webhook_subscription: { webhook_url: "https://example.com/b", version: 2, events: ["chat.created"] } });
      assert.notEqual(generated.body.webhook_subscription.secret, res.body.webhook_subscription.secret);
    });

    it("accepts any non-empty secret the caller chooses, and signs deliveries with it", async () => {
      const receiver = await startReceiver();
      const secrets = ["k", "1234567", "s".repeat(1000), "pässwörd 🔑"];
      try {
        for (const [i, secret] of secrets.entries()) {
          const res = await create({ webhook_subscription: { webhook_url: `${receiver.url}/hook/${i}`, version: 2, secret, events: ["contact.deleted"] } });
          assert.equal(res.status, 201, res.raw);
          assert.equal(res.body.webhook_subscription.secret, secret);
          const updated = await t.request("PUT", `${V2}/webhook_subscriptions/${res.body.webhook_subscription.id}`, {
            body: { webhook_subscription: { secret } },
          });
          assert.equal(updated.status, 200, updated.raw);
        }
        const contact = await t.request("POST", `${V2}/contacts`, { body: { contact: { first_name: "Sig", phone_number: "+15550107777" } } });
        assert.equal(contact.status, 201, contact.raw);
        assert.equal((await t.request("DELETE", `${V2}/contacts/${contact.body.data.id}`)).status, 204);
        await receiver.waitFor((requests) => requests.length === secrets.length);
        for (const request of receiver.requests) {
          const secret = secrets[Number(request.path.split("/").pop())]!;
          assert.ok(hasValidV2Signature(request, secret), `${request.path} signed with its own secret`);
        }
      } finally {
        await receiver.close();
      }
    });

    it("accepts all 14 event types, and duplicate subscriptions to one URL", async () => {
      const body = { webhook_subscription: { webhook_url: "https://dup.example.com/hook", version: 2, events: ALL_EVENTS } };
      const a = await create(body);
      const b = await create(body);
      assert.equal(a.status, 201, a.raw);
      assert.equal(b.status, 201);
      assert.notEqual(a.body.webhook_subscription.id, b.body.webhook_subscription.id);
      assert.deepEqual(a.body.webhook_subscription.events, ALL_EVENTS);
    });

    it("never shows the secret again: not in the list, not after updates", async () => {
      for (const sub of await list()) {
        assert.equal(sub.secret, undefined);
        assert.equal(sub.secret_configured, true);
      }
      const { id } = (await create({ webhook_url: "https://quiet.example.com/", version: 2, events: ["message.read"] })).body
        .webhook_subscription;
      const updated = await t.request("PUT", `${V2}/webhook_subscriptions/${id}`, {
        body: { webhook_subscription: { secret: "a-brand-new-secret" } },
      });
      assert.equal(updated.status, 200, updated.raw);
      assert.equal(updated.body.webhook_subscription.secret, undefined);
      assert.equal(updated.body.webhook_subscription.secret_configured, true);
    });

    it("PUT changes only what is sent (wrapped or flat) and answers {webhook_subscription}", async () => {
      const created = (
        await create({
          webhook_subscription: { webhook_url: "https://update.example.com/a", version: 2, events: ["message.sent"], secret: "keep-this-secret" },
        })
      ).body.webhook_subscription;
      const url = `${V2}/webhook_subscriptions/${created.id}`;
      const wrapped = await t.request("PUT", url, {
        body: { webhook_subscription: { events: ["message.received", "call.completed"], active: false } },
      });
      assert.equal(wrapped.status, 200, wrapped.raw);
      assert.deepEqual(Object.keys(wrapped.body), ["webhook_subscription"]);
      const flat = await t.request("PUT", url, { body: { webhook_url: "https://update.example.com/b" } });
      assert.equal(flat.status, 200, flat.raw);
      const { secret: _secret, ...rest } = created;
      assert.deepEqual(
        { ...flat.body.webhook_subscription, updated_at: "" },
        {
          ...rest,
          webhook_url: "https://update.example.com/b",
          events: ["message.received", "call.completed"],
          active: false,
          updated_at: "",
        },
      );
      const empty = await t.request("PUT", url, { body: {} });
      assert.equal(empty.status, 200);
      assert.equal(empty.body.webhook_subscription.webhook_url, "https://update.example.com/b");
    });

    it("DELETE answers 204; unknown ids answer 404 WEBHOOK_SUBSCRIPTION_NOT_FOUND", async () => {
      const { id } = (await create({ webhook_url: "https://gone.example.com/", version: 2, events: ["message.sent"] })).body
        .webhook_subscription;
      const res = await t.request("DELETE", `${V2}/webhook_subscriptions/${id}`);
      assert.equal(res.status, 204);
      assert.equal(res.raw, "");
      assert.equal((await list()).find((s) => s.id === id), undefined);
      for (const unknown of [String(id), "99999999999"]) {
        const url = `${V2}/webhook_subscriptions/${unknown}`;
        assertStandardError(await t.request("DELETE", url), 404, "WEBHOOK_SUBSCRIPTION_NOT_FOUND");
        assertStandardError(await t.request("PUT", url, { body: { active: true } }), 404, "WEBHOOK_SUBSCRIPTION_NOT_FOUND");
      }
      assertStandardError(await t.request("DELETE", `${V2}/webhook_subscriptions/x`), 400, "BAD_REQUEST");
    });

    it("refuses invalid subscriptions in the standard shape, naming the problem, and writes nothing", async () => {
      const before = (await list()).length;
      const valid = { webhook_url: "https://valid.example.com/", version: 2, events: ["message.sent"] };
      const cases: [unknown, number, string, RegExp][] = [
        [{ version: 2, events: ["message.sent"] }, 422, "VALIDATION_ERROR", /webhook_url/],
        [{ webhook_url: "https://a.example.com/" , events: ["message.sent"] }, 422, "VALIDATION_ERROR", /version/],
        [{ webhook_url: "https://a.example.com/", version: 2 }, 422, "VALIDATION_ERROR", /events/],
        [{ ...valid, webhook_url: "not a url" }, 422, "VALIDATION_ERROR", /webhook_url/],
        [{ ...valid, webhook_url: "ftp://files.example.com/" }, 422, "VALIDATION_ERROR", /webhook_url/],
        [{ ...valid, version: 3 }, 422, "VALIDATION_ERROR", /version must be 2/],
        [{ ...valid, events: [] }, 422, "VALIDATION_ERROR", /events/],
        [{ ...valid, events: ["message.sent", "message.exploded"] }, 422, "VALIDATION_ERROR", /message\.exploded.*valid: message\.sent/],
        [{ ...valid, secret: "" }, 422, "VALIDATION_ERROR", /secret must not be empty/],
        [{ ...valid, active: "maybe" }, 400, "BAD_REQUEST", /active/],
        [{ ...valid, events: { "message.sent": true } }, 400, "BAD_REQUEST", /events/],
        [{ webhook_subscription: "https://a.example.com/" }, 400, "BAD_REQUEST", /webhook_subscription/],
      ];
      for (const [body, status, code, message] of cases) {
        assertStandardError(await create(body), status, code, message);
      }
      assertStandardError(
        await t.request("POST", `${V2}/webhook_subscriptions`, { payload: "{]", headers: { "content-type": "application/json" } }),
        400,
        "BAD_REQUEST",
        /Malformed JSON/,
      );
      const existing = (await list())[0]!;
      assertStandardError(
        await t.request("PUT", `${V2}/webhook_subscriptions/${existing.id}`, { body: { events: ["nope"], webhook_url: "https://changed.example.com/" } }),
        422,
        "VALIDATION_ERROR",
        /nope/,
      );
      assert.equal((await list()).length, before);
      assert.deepEqual((await list())[0], existing);
    });
  });
}
