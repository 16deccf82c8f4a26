import assert from "node:assert/strict";
import { OUR_NUMBER, type TestApp, type TestResponse } from "./app.ts";

/** Shared steps and assertions of the V2 API tests. */

export const V2 = "/api/partner/v2";

/** Asserts a render_error body (`{"errors":[{status,code,title,detail}]}`) and returns its detail. */
export function assertRenderError(res: TestResponse, status: number, detail?: RegExp): string {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.raw}`);
  assert.ok(Array.isArray(res.body?.errors), `render_error body expected: ${res.raw}`);
  assert.equal(res.body.errors.length, 1);
  const [error] = res.body.errors;
  assert.deepEqual(Object.keys(error).sort(), ["code", "detail", "status", "title"]);
  assert.equal(error.status, status);
  assert.match(error.code, /^[a-z_]+$/);
  assert.equal(typeof error.title, "string");
  if (detail) assert.match(error.detail, detail);
  assert.equal(res.body.status, undefined, "render_error has no top-level status");
  return error.detail;
}

/** Asserts a render_standard_error body (`{status:"error",error_code,message,errors:[…]}`) and returns its message. */
export function assertStandardError(res: TestResponse, status: number, errorCode?: string, message?: RegExp): string {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.raw}`);
  assert.equal(res.body?.status, "error", `standard error body expected: ${res.raw}`);
  assert.deepEqual(Object.keys(res.body).sort(), ["error_code", "errors", "message", "status"]);
  assert.match(res.body.error_code, /^[A-Z_]+$/);
  if (errorCode) assert.equal(res.body.error_code, errorCode);
  assert.ok(Array.isArray(res.body.errors) && res.body.errors.every((e: unknown) => typeof e === "string"));
  if (message) assert.match(res.body.message, message);
  return res.body.message;
}

/** Creates (or finds) a chat with the reference body and returns the response `data`. */
export async function createChat(
  t: TestApp,
  recipients: string[],
  text = "Hello",
  extra: { token?: string; sendFrom?: string; displayName?: string; idempotencyKey?: string } = {},
) {
  const res = await t.request("POST", `${V2}/chats`, {
    token: extra.token,
    body: {
      send_from: extra.sendFrom ?? OUR_NUMBER,
      chat: { phone_numbers: recipients, ...(extra.displayName ? { display_name: extra.displayName } : {}) },
      message: { text, ...(extra.idempotencyKey ? { idempotency_key: extra.idempotencyKey } : {}) },
    },
  });
  assert.equal(res.status, 200, res.raw);
  return res.body.data;
}

/** Sends a message with the reference JSON body; returns the whole response. */
export function sendMessage(t: TestApp, chatId: number, message: Record<string, unknown>, token?: string) {
  return t.request("POST", `${V2}/chats/${chatId}/chat_messages`, { body: { message }, token });
}

/** Every message of a chat (first page of 100), oldest first. */
export async function listMessages(t: TestApp, chatId: number, token?: string): Promise<any[]> {
  const res = await t.request("GET", `${V2}/chats/${chatId}/chat_messages?per_page=100`, { token });
  assert.equal(res.status, 200, res.raw);
  return res.body.data;
}

/** Total chats of our number, as List Chats reports it. */
export async function countChats(t: TestApp, number = OUR_NUMBER, token?: string): Promise<number> {
  const res = await t.request("GET", `${V2}/chats?phone_number=${encodeURIComponent(number)}`, { token });
  assert.equal(res.status, 200, res.raw);
  return res.body.meta.total_count;
}
