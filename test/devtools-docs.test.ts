import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { startReceiver, type ReceivedRequest, type Receiver } from "./helpers/receiver.ts";
import { V2, createChat } from "./helpers/v2.ts";

/**
 * The verification snippets of docs/devtools.md, exactly as printed, against real deliveries:
 * each accepts what openlinq sent and refuses a tampered body. Python runs only with its
 * standard library, offline.
 */

const ROOT = join(import.meta.dirname, "..");
const DOC = readFileSync(join(ROOT, "docs", "devtools.md"), "utf8");
// Inside the repository, so the library snippet resolves `standardwebhooks` from node_modules.
const SCRATCH = join(ROOT, "test-results", "snippets");

function snippet(tag: string): string {
  const match = new RegExp("```\\w+ " + tag + "\\n([\\s\\S]*?)```").exec(DOC);
  assert.ok(match, `docs/devtools.md has no block tagged ${tag}`);
  return match[1]!;
}

async function importSnippet(tag: string): Promise<Record<string, (body: Buffer, headers: Record<string, string>, secret: string) => unknown>> {
  mkdirSync(SCRATCH, { recursive: true });
  const file = join(SCRATCH, `${tag}-${process.pid}.mjs`);
  writeFileSync(file, snippet(tag));
  return import(pathToFileURL(file).href);
}

const headersOf = (request: ReceivedRequest) =>
  Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
const tampered = (request: ReceivedRequest) => Buffer.from(request.body.replace(/Snippets/, "Snippetz"), "utf8");

describe("verification snippets in docs/devtools.md", () => {
  let t: TestApp;
  let receiver: Receiver;
  /** One delivery per secret: openlinq's generated whsec_ secret and one a user chose. */
  const deliveries: { secret: string; request: ReceivedRequest }[] = [];

  before(async () => {
    t = await startTestApp("sqlite");
    receiver = await startReceiver();
    const generated = await t.request("POST", `${V2}/webhook_subscriptions`, {
      body: { webhook_url: `${receiver.url}/generated`, version: 2, events: ["message.sent"] },
    });
    assert.equal(generated.status, 201, generated.raw);
    const chosen = "my-shared-secret";
    const custom = await t.request("POST", `${V2}/webhook_subscriptions`, {
      body: { webhook_url: `${receiver.url}/chosen`, version: 2, events: ["message.sent"], secret: chosen },
    });
    assert.equal(custom.status, 201, custom.raw);
    await createChat(t, ["+15557770301"], "Snippets tested, ünïcode ✓");
    await receiver.waitFor((requests) => requests.length >= 2);
    deliveries.push(
      { secret: generated.body.webhook_subscription.secret, request: receiver.requests.find((r) => r.path === "/generated")! },
      { secret: chosen, request: receiver.requests.find((r) => r.path === "/chosen")! },
    );
    assert.match(deliveries[0]!.secret, /^whsec_/);
  });
  after(async () => {
    await receiver?.close();
    await t?.close();
  });

  it("Node V2 and Standard Webhooks snippets accept real deliveries and refuse tampered ones", async () => {
    const { verifyV2 } = await importSnippet("verify-v2");
    const { verifyStandard } = await importSnippet("verify-standard");
    for (const { secret, request } of deliveries) {
      const body = Buffer.from(request.body, "utf8");
      assert.equal(verifyV2!(body, headersOf(request), secret), true, `V2 with ${secret}`);
      assert.equal(verifyStandard!(body, headersOf(request), secret), true, `standard with ${secret}`);
      assert.equal(verifyV2!(tampered(request), headersOf(request), secret), false);
      assert.equal(verifyStandard!(tampered(request), headersOf(request), secret), false);
    }
  });

  it("the standardwebhooks snippet accepts a real delivery and throws on a tampered one", async () => {
    const { verifyWithLibrary } = await importSnippet("verify-library");
    const { secret, request } = deliveries[0]!;
    const payload = verifyWithLibrary!(Buffer.from(request.body, "utf8"), headersOf(request), secret) as { event_type: string };
    assert.equal(payload.event_type, "message.sent");
    assert.throws(() => verifyWithLibrary!(tampered(request), headersOf(request), secret));
  });

  it("the Python snippet (stdlib only) accepts real deliveries and refuses tampered ones", async () => {
    const cases = deliveries.flatMap(({ secret, request }) => [
      { body: request.body, headers: headersOf(request), secret, valid: true },
      { body: tampered(request).toString("utf8"), headers: headersOf(request), secret, valid: false },
    ]);
    const harness = `${snippet("verify-python")}
import json, sys
for case in json.load(sys.stdin):
    body = case["body"].encode("utf-8")
    print(json.dumps([verify_v2(body, case["headers"], case["secret"]), verify_standard(body, case["headers"], case["secret"])]))
`;
    const child = promisify(execFile)("python3", ["-I", "-c", harness], { env: {} });
    child.child.stdin!.end(JSON.stringify(cases));
    const { stdout } = await child;
    const results = stdout.trim().split("\n").map((line) => JSON.parse(line) as [boolean, boolean]);
    assert.deepEqual(results, cases.map((c) => [c.valid, c.valid]));
  });
});
