import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { runDoctor, type DoctorOptions } from "../src/cli/doctor.ts";
import { Webhook } from "standardwebhooks";
import { deliveryHeaders, standardWebhooksKey } from "../src/delivery/signer.ts";
import { diagnoseSignature, likelyRefusalCauses, type ReceiverComputation } from "../src/delivery/signature-doctor.ts";
import { DIALECTS, startTestApp, type TestApp } from "./helpers/app.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { V2, createChat } from "./helpers/v2.ts";

const NO_OPTIONS: DoctorOptions = {
  api: "",
  token: undefined,
  event: undefined,
  attempt: undefined,
  signature: undefined,
  comparedWith: undefined,
  secret: undefined,
  timestamp: undefined,
  body: undefined,
  bodyFile: undefined,
  scheme: undefined,
};
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const EVENT_ID = "5f0c2a4e-7d51-4d1b-9a55-1f1f6c7b2d10";
const BODY = '{"api_version":"v2","data":{"id":"1","text":"héllo ✓"},"event_id":"e1","event_type":"message.sent"}';
// Now: the standardwebhooks library checks timestamps against the machine's clock.
const AT = new Date();
const HEADERS = deliveryHeaders({ eventId: EVENT_ID, eventType: "message.sent", subscriptionId: 7, secret: SECRET, body: BODY, at: AT });
const TS = HEADERS["webhook-timestamp"]!;
const hmac = (key: string | Buffer, text: string) => createHmac("sha256", key).update(text, "utf8").digest();
const decodedKey = standardWebhooksKey(SECRET);

function diagnose(receiver: ReceiverComputation) {
  return diagnoseSignature({ eventId: EVENT_ID, body: BODY, secret: SECRET, headers: HEADERS }, receiver, { wallClock: AT });
}
const codes = (receiver: ReceiverComputation) => diagnose(receiver).findings.map((f) => f.code);

describe("signature doctor", () => {
  it("says a correct V2 or Standard Webhooks signature is correct", () => {
    const v2 = diagnose({ signature: hmac(SECRET, BODY).toString("hex"), body: BODY, secret: SECRET });
    assert.equal(v2.verdict, "match");
    assert.equal(v2.scheme, "v2");
    assert.deepEqual(v2.findings.map((f) => f.severity), ["ok", "ok", "ok"]);
    const standard = diagnose({ signature: HEADERS["webhook-signature"], scheme: "standard" });
    assert.equal(standard.verdict, "match");
    assert.equal(standard.scheme, "standard");
    // The expected values are what the library verifies.
    assert.deepEqual(new Webhook(SECRET).verify(BODY, HEADERS), JSON.parse(BODY));
    assert.equal(standard.expected.standard, HEADERS["webhook-signature"]);
    assert.equal(standard.expected.v2, HEADERS["x-webhook-signature"]);
  });

  it("names a body re-serialised with other key order, whitespace or unicode escapes", () => {
    const parsed = JSON.parse(BODY);
    const reordered = JSON.stringify({ event_type: parsed.event_type, ...parsed });
    assert.deepEqual(codes({ body: reordered, signature: hmac(SECRET, reordered).toString("hex") }), ["body_keys_reordered"]);
    const pythonDumps = BODY.replace(/,"/g, ', "').replace(/":/g, '": ');
    assert.deepEqual(codes({ body: pythonDumps, signature: hmac(SECRET, pythonDumps).toString("hex") }), ["body_whitespace_changed"]);
    const asciiOnly = BODY.replace("é", "\\u00e9").replace("✓", "\\u2713");
    assert.deepEqual(codes({ body: asciiOnly, signature: hmac(SECRET, asciiOnly).toString("hex") }), ["body_unicode_escaped"]);
    const pretty = JSON.stringify(parsed, null, 2);
    assert.deepEqual(codes({ body: pretty }), ["body_whitespace_changed"]);
    const latin1 = Buffer.from(BODY, "utf8").toString("latin1");
    assert.deepEqual(codes({ body: latin1 }), ["body_reencoded"]);
    assert.deepEqual(codes({ body: `${BODY}\n` }), ["body_whitespace_added"]);
  });

  it("names the key mistake: whsec_ stripped, base64-decoded when it should not be, or the reverse", () => {
    const stripped = codes({ signature: hmac(SECRET.slice(6), BODY).toString("hex") });
    assert.deepEqual(stripped, ["key_secret_without_prefix"]);
    assert.deepEqual(codes({ signature: hmac(decodedKey, BODY).toString("hex") }), ["key_decoded"]);
    // Standard Webhooks keyed with the secret string instead of its decoded bytes.
    const rawKey = hmac(SECRET, `${EVENT_ID}.${TS}.${BODY}`).toString("base64");
    assert.deepEqual(codes({ signature: `v1,${rawKey}` }), ["key_secret"]);
    const diagnosis = diagnose({ signature: `v1,${rawKey}` });
    assert.equal(diagnosis.scheme, "standard");
    assert.match(diagnosis.findings[0]!.message, /base64-decoded/);
  });

  it("names hex vs base64 and the signed content of the other scheme", () => {
    const standardInHex = hmac(decodedKey, `${EVENT_ID}.${TS}.${BODY}`).toString("hex");
    assert.deepEqual(codes({ signature: standardInHex, scheme: "standard" }), ["encoding_hex"]);
    const v2InBase64 = hmac(SECRET, BODY).toString("base64");
    assert.deepEqual(codes({ signature: v2InBase64, scheme: "v2" }), ["encoding_base64"]);
    // V2's body-only scheme checked against the Standard Webhooks header.
    const bodyOnly = hmac(decodedKey, BODY).toString("base64");
    assert.deepEqual(codes({ signature: bodyOnly, scheme: "standard" }), ["content_body"]);
    // Standard Webhooks' content under V2's hex header.
    const withId = hmac(SECRET, `${EVENT_ID}.${TS}.${BODY}`).toString("hex");
    assert.deepEqual(codes({ signature: withId, scheme: "v2" }), ["content_id_ts_body"]);
  });

  it("names a millisecond or stale timestamp", () => {
    const millis = hmac(decodedKey, `${EVENT_ID}.${TS}000.${BODY}`).toString("base64");
    assert.deepEqual(codes({ signature: `v1,${millis}` }), ["timestamp_millis"]);
    const stale = String(Number(TS) - 35);
    const staleSig = hmac(decodedKey, `${EVENT_ID}.${stale}.${BODY}`).toString("base64");
    assert.deepEqual(codes({ signature: `v1,${staleSig}`, timestamp: stale }), ["timestamp_stale"]);
    const far = diagnoseSignature({ eventId: EVENT_ID, body: BODY, secret: SECRET, headers: HEADERS }, {}, {
      wallClock: new Date(AT.getTime() + 3_600_000),
    });
    assert.deepEqual(far.findings.map((f) => f.code), ["timestamp_outside_tolerance"]);
  });

  it("names a prefix not stripped and a comparison against the other scheme's header", () => {
    const mine = hmac(SECRET, BODY).toString("hex");
    const prefix = diagnose({ signature: mine, comparedWith: HEADERS["x-webhook-signature"] });
    assert.equal(prefix.verdict, "match");
    assert.deepEqual(prefix.findings.map((f) => f.code), ["signature_correct", "prefix_not_stripped"]);
    const wrong = diagnose({ signature: mine, comparedWith: HEADERS["webhook-signature"] });
    assert.ok(wrong.findings.some((f) => f.code === "wrong_header"));
  });

  it("says when nothing reproduces the signature, and names a different secret", () => {
    const other = hmac("someone-elses-secret", BODY).toString("hex");
    const result = diagnose({ signature: other, secret: "someone-elses-secret" });
    assert.equal(result.verdict, "mismatch");
    assert.ok(result.findings.some((f) => f.code === "secret_different"));
    assert.equal(diagnose({ signature: "00ff" }).findings[0]!.code, "signature_not_reproduced");
  });

  it("orders refusal causes by what the response and the clock suggest", () => {
    const plain = likelyRefusalCauses({ status: 401, responseBody: "", requestTimestamp: AT.getTime() / 1000, wallClock: AT });
    assert.equal(plain[0]!.code, "body_reserialised");
    const stale = likelyRefusalCauses({ status: 401, responseBody: "Message timestamp too old", requestTimestamp: AT.getTime() / 1000, wallClock: AT });
    assert.equal(stale[0]!.code, "timestamp_tolerance");
  });
});

for (const dialect of DIALECTS) {
  describe(`signature doctor over HTTP (${dialect})`, () => {
    let t: TestApp;
    let receiver: Receiver;
    let eventId: string;
    let delivered: { headers: Record<string, string>; body: string };
    const secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

    before(async () => {
      t = await startTestApp(dialect, { config: { WEBHOOK_RETRY_SCHEDULE: "1h" } });
      receiver = await startReceiver();
      // A receiver whose check is broken: it refuses every delivery.
      receiver.answer({ status: 401, body: '{"error":"invalid signature"}' });
      const sub = await t.request("POST", `${V2}/webhook_subscriptions`, {
        body: { webhook_url: `${receiver.url}/hook`, version: 2, events: ["message.sent"], secret },
      });
      assert.equal(sub.status, 201, sub.raw);
      // The worker publishes a delivery activity once the attempt is recorded.
      const recorded = new Promise<void>((resolve) => {
        const off = t.openlinq.deps.activity.subscribe(t.openlinq.bootstrap.organization.id, (activity) => {
          if (activity.kind !== "delivery") return;
          off();
          resolve();
        });
      });
      await createChat(t, ["+15557770201"], "Doctor, doctor");
      await recorded;
      const request = receiver.requests[0]!;
      delivered = { headers: request.headers as Record<string, string>, body: request.body };
      eventId = delivered.headers["webhook-id"]!;
    });
    after(async () => {
      await receiver?.close();
      await t?.close();
    });

    it("the delivery log says a refused delivery was signed correctly and lists likely causes", async () => {
      const res = await t.request("GET", `/openlinq/v1/events/${eventId}`);
      assert.equal(res.status, 200, res.raw);
      const [attempt] = res.body.event.attempts;
      assert.equal(attempt.response.status, 401);
      assert.match(attempt.signature_diagnosis.summary, /correctly signed/);
      assert.ok(attempt.signature_diagnosis.likely_causes.length >= 4);
      assert.equal(attempt.signature_diagnosis.likely_causes[0].code, "body_reserialised");
    });

    it("POST /openlinq/v1/signature/check pins down a receiver's mistakes on the real delivery", async () => {
      // The receiver re-serialised the body (keys re-ordered) and hex-encoded a Standard Webhooks HMAC.
      const parsed = JSON.parse(delivered.body);
      const reserialised = JSON.stringify({ data: parsed.data, ...parsed });
      const key = Buffer.from(secret.slice(6), "base64");
      const ts = delivered.headers["webhook-timestamp"];
      const signature = createHmac("sha256", key).update(`${eventId}.${ts}.${reserialised}`).digest("hex");
      const res = await t.request("POST", "/openlinq/v1/signature/check", {
        body: { event_id: eventId, body: reserialised, signature, secret, headers: { "Webhook-Timestamp": ts!, "webhook-signature": delivered.headers["webhook-signature"]! } },
      });
      assert.equal(res.status, 200, res.raw);
      assert.equal(res.body.verdict, "mismatch");
      assert.equal(res.body.scheme, "standard");
      assert.equal(res.body.reproduced, true);
      const found = res.body.findings.map((f: { code: string }) => f.code);
      assert.ok(found.includes("body_keys_reordered"), found.join());
      assert.ok(found.includes("encoding_hex"), found.join());
      assert.equal(res.body.expected.standard, delivered.headers["webhook-signature"]);
      assert.equal(res.body.expected.v2, delivered.headers["x-webhook-signature"]);

      // A right signature is confirmed as right.
      const right = delivered.headers["x-webhook-signature"]!.slice("sha256=".length);
      const ok = await t.request("POST", "/openlinq/v1/signature/check", {
        body: { event_id: eventId, body: delivered.body, signature: right, secret },
      });
      assert.equal(ok.body.verdict, "match");
      assert.equal(ok.body.scheme, "v2");
    });

    it("openlinq doctor prints the findings and exits 1 on a mismatch, 0 on a match", async () => {
      await t.openlinq.listen();
      // In-process: the command is a client of the server, and spawning it costs a full TypeScript compile.
      const run = async (args: Partial<DoctorOptions>) => {
        const lines: string[] = [];
        const code = await runDoctor(
          { ...NO_OPTIONS, api: t.openlinq.baseUrl(), token: t.token, event: eventId, ...args },
          (line) => lines.push(line),
        );
        return { code, stdout: lines.join("\n") };
      };
      const stripped = createHmac("sha256", secret.slice(6)).update(delivered.body).digest("hex");
      const bad = await run({ signature: stripped });
      assert.equal(bad.code, 1, bad.stdout);
      assert.match(bad.stdout, /mismatch \(v2\)/);
      assert.match(bad.stdout, /FIX\s+You keyed HMAC with the secret without whsec_/);
      const good = await run({ signature: delivered.headers["webhook-signature"]! });
      assert.equal(good.code, 0, good.stdout);
      assert.match(good.stdout, /: match \(standard\)/);
    });

    it("refuses an unknown event or attempt, and other organizations' events", async () => {
      const unknown = await t.request("POST", "/openlinq/v1/signature/check", {
        body: { event_id: "00000000-0000-4000-8000-000000000000" },
      });
      assert.equal(unknown.status, 404);
      const attempt = await t.request("POST", "/openlinq/v1/signature/check", { body: { event_id: eventId, attempt_id: 999999 } });
      assert.equal(attempt.status, 422);
      assert.match(attempt.body.errors[0].detail, /no attempt 999999/);
      const second = await t.secondOrg();
      const foreign = await t.request("POST", "/openlinq/v1/signature/check", { token: second.token, body: { event_id: eventId } });
      assert.equal(foreign.status, 404);
      assert.equal((await t.request("POST", "/openlinq/v1/signature/check", { body: {} })).status, 400);
    });
  });
}
