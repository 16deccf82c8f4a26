import assert from "node:assert/strict";
import LinqAPIV3, { APIError } from "@linqapp/sdk";
import { OUR_NUMBER, startTestApp, TEST_TOKEN, type Dialect, type TestApp } from "./app.ts";

/** The official V3 client against a real listening server (port 0). */
export interface V3TestApp {
  t: TestApp;
  client: LinqAPIV3;
  /** A client of another token (e.g. a second organization's). */
  clientFor(token: string): LinqAPIV3;
  close(): Promise<void>;
}

export async function startV3App(dialect: Dialect, options: Parameters<typeof startTestApp>[1] = {}): Promise<V3TestApp> {
  const t = await startTestApp(dialect, options);
  await t.openlinq.listen();
  const clientFor = (token: string) =>
    new LinqAPIV3({ apiKey: token, baseURL: `${t.openlinq.baseUrl()}/api/partner`, maxRetries: 0 });
  return { t, client: clientFor(TEST_TOKEN), clientFor, close: () => t.close() };
}

export const text = (value: string) => ({ parts: [{ type: "text" as const, value }] });

/** Runs a call that must fail and checks the V3 envelope: HTTP status, integer code, trace id. */
export async function expectV3Error(call: Promise<unknown>, status: number, code: number): Promise<APIError> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof APIError, `expected an APIError, got ${String(error)}`);
    const body = error.error as { success: boolean; error: { status: number; code: number; message: string }; trace_id: string };
    assert.equal(error.status, status, JSON.stringify(body));
    assert.equal(body.success, false);
    assert.equal(body.error.status, status);
    assert.equal(body.error.code, code, JSON.stringify(body));
    assert.equal(typeof body.error.message, "string");
    assert.match(body.trace_id, /^[0-9a-f]{32}$/);
    assert.equal(error.headers?.get("x-trace-id"), body.trace_id);
    return error;
  }
  assert.fail(`expected a ${status} (${code}), but the call succeeded`);
}

export { OUR_NUMBER };
