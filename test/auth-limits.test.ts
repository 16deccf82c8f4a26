import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { createToken } from "../src/core/accounts/accounts.service.ts";
import { DIALECTS, startTestApp, TEST_TOKEN, type TestApp, type TestResponse } from "./helpers/app.ts";
import { V2, assertRenderError } from "./helpers/v2.ts";

/**
 * Sign-in limits and token revocation: wrong tokens are limited per client address before
 * any lookup; a revoked token stops working on every node; per-token budgets are shared by
 * the nodes of one Postgres database.
 */

const V3 = "/api/partner/v3";

/** A request from a given client address (inject's remoteAddress), with a token header or none. */
async function from(t: TestApp, address: string, url: string, token: string | null, bearer = false): Promise<TestResponse> {
  const headers: Record<string, string> = {};
  if (token !== null) {
    if (bearer) headers.authorization = `Bearer ${token}`;
    else headers["x-linq-integration-token"] = token;
  }
  const response = await t.openlinq.http.inject({ method: "GET", url, headers, remoteAddress: address });
  return { status: response.statusCode, body: response.json(), headers: response.headers, raw: response.body };
}

const PHONE_NUMBERS = `${V2}/phone_numbers`;

for (const dialect of DIALECTS) {
  describe(`failed sign-ins are limited per client address (${dialect})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(dialect, { config: { AUTH_FAILURE_LIMIT: "3" } });
    });
    after(async () => t?.close());

    it("past the limit, wrong and missing tokens get 429 with Retry-After in each face's shape; others are unaffected", async () => {
      const attacker = "203.0.113.7";
      // A token this node knows keeps working from the same address throughout.
      assert.equal((await from(t, attacker, PHONE_NUMBERS, TEST_TOKEN)).status, 200);
      for (let i = 0; i < 3; i += 1) {
        assertRenderError(await from(t, attacker, PHONE_NUMBERS, `wrong-token-${i}`), 401);
      }
      const limited = await from(t, attacker, PHONE_NUMBERS, "wrong-token-again");
      assertRenderError(limited, 429, /Too many requests with a missing or invalid token/);
      assert.equal(limited.body.errors[0].code, "rate_limited");
      assert.ok(Number(limited.headers["retry-after"]) >= 1 && Number(limited.headers["retry-after"]) <= 60);
      assertRenderError(await from(t, attacker, PHONE_NUMBERS, null), 429);
      const v3 = await from(t, attacker, `${V3}/phone_numbers`, "wrong-token-v3", true);
      assert.equal(v3.status, 429);
      assert.equal(v3.body.error.code, 1007);
      assert.ok(Number(v3.headers["retry-after"]) >= 1);

      assert.equal((await from(t, attacker, PHONE_NUMBERS, TEST_TOKEN)).status, 200, "the known token still works");
      assertRenderError(await from(t, "203.0.113.8", PHONE_NUMBERS, "wrong-token-elsewhere"), 401, undefined);
    });
  });

  describe(`token revocation (${dialect})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(dialect);
    });
    after(async () => t?.close());

    it("lists the org's tokens without the tokens; a revoked token is refused at once; others' tokens are out of reach", async () => {
      const orgId = t.openlinq.bootstrap.organization.id;
      const extra = await createToken(t.openlinq.deps, { orgId, label: "cli" });
      assert.equal((await t.request("GET", PHONE_NUMBERS, { token: extra.token })).status, 200);

      const listed = await t.request("GET", "/openlinq/v1/tokens");
      assert.equal(listed.status, 200, listed.raw);
      assert.ok(!listed.raw.includes(extra.token) && !listed.raw.includes(TEST_TOKEN));
      const ids = listed.body.tokens.map((token: { id: number; label: string; current: boolean }) => token);
      assert.deepEqual(
        ids.map((token: { label: string; current: boolean }) => [token.label, token.current]),
        [
          ["OPENLINQ_TOKEN", true],
          ["cli", false],
        ],
      );
      const extraId = ids[1].id;

      assert.equal((await t.request("DELETE", `/openlinq/v1/tokens/${extraId}`)).status, 204);
      assertRenderError(await t.request("GET", PHONE_NUMBERS, { token: extra.token }), 401);
      assertRenderError(await t.request("DELETE", `/openlinq/v1/tokens/${extraId}`), 404);

      const other = await t.secondOrg();
      const otherTokens = await t.request("GET", "/openlinq/v1/tokens", { token: other.token });
      const otherId = otherTokens.body.tokens[0].id;
      assertRenderError(await t.request("DELETE", `/openlinq/v1/tokens/${otherId}`), 404);
      assert.equal((await t.request("GET", PHONE_NUMBERS, { token: other.token })).status, 200);
    });
  });
}

describe("several nodes on one Postgres: revocation and rate limits", { skip: !DIALECTS.includes("postgres") && "TEST_DATABASE_URL not set" }, () => {
  let a: TestApp;
  let b: TestApp;
  before(async () => {
    a = await startTestApp("postgres");
    b = await startTestApp("postgres", { nodeOf: a });
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  it("a token revoked on node A is refused by node B, which had it cached", async () => {
    const extra = await createToken(a.openlinq.deps, { orgId: a.openlinq.bootstrap.organization.id, label: "cli" });
    assert.equal((await b.request("GET", PHONE_NUMBERS, { token: extra.token })).status, 200, "cached on node B now");
    const { tokens } = (await a.request("GET", "/openlinq/v1/tokens")).body;
    const id = tokens.find((token: { label: string }) => token.label === "cli").id;
    assert.equal((await a.request("DELETE", `/openlinq/v1/tokens/${id}`)).status, 204);

    // The notice crosses between nodes asynchronously: poll, with a deadline far above its usual delay.
    const deadline = Date.now() + 30_000;
    let status = 200;
    while (Date.now() < deadline) {
      status = (await b.request("GET", PHONE_NUMBERS, { token: extra.token })).status;
      if (status === 401) break;
      await sleep(50);
    }
    assert.equal(status, 401, "node B still accepted the revoked token after 30 s");
  });

  it("a per-token budget spent on node A is spent on node B too", async () => {
    // Linq's availability check: one per 10 seconds per token, whichever node answers.
    const check = (t: TestApp) => t.request("POST", `${V2}/i_message_availability/check`, { body: { phone_number: "+15550000501" } });
    assert.equal((await check(a)).status, 200);
    const onB = await check(b);
    assertRenderError(onB, 429, /Rate limit exceeded/);
    assert.ok(Number(onB.headers["retry-after"]) >= 1);
  });
});
