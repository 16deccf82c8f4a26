/**
 * `npm run fuzz -- [--requests N] [--seconds S] [--seed X]`: walks every OpenAPI document
 * the server serves and sends each operation malformed and hostile input — wrong types,
 * huge numbers, unicode, bad percent-escapes, long URLs, missing and extra fields,
 * truncated or garbled multipart, broken JSON — then checks the store. Fails (exit 1) on
 * any 5xx answer and on any store problem: SQLite integrity, messages without their chat
 * counters, attachment rows without files, files without rows, leftover staged uploads.
 *
 * Seeded and bounded by count and time. Everything stays on loopback: the server runs in
 * this process, URLs it is given point at a file server and a receiver on 127.0.0.1, and
 * its outbound network is fake (names resolve from a table, every address leads to
 * 127.0.0.1), so no request can leave the machine whatever the fuzzer makes up.
 *
 * Not fuzzed: the fault-injection routes (/openlinq/v1/faults answer 5xx on purpose), event
 * streams (they never end) and token revocation (it would revoke the fuzzer's own token; a
 * run whose token stops working fails, since it tested only the authentication wall).
 */
import { parseArgs } from "node:util";
import SQLite from "better-sqlite3";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createSeededRandom, freshRandomSeed } from "../../src/clock/seeded-random.ts";
import { OUR_NUMBER, encodeMultipart, startTestApp, type MultipartPart, type TestApp } from "../helpers/app.ts";
import { startFileServer, type FileServer } from "../helpers/file-server.ts";
import { fakeNetwork } from "../helpers/network.ts";
import { startReceiver, type Receiver } from "../helpers/receiver.ts";
import { PNG, PDF } from "../fixtures/media.ts";

const { values: args } = parseArgs({
  options: {
    requests: { type: "string", default: "2000" },
    seconds: { type: "string", default: "60" },
    seed: { type: "string" },
    verbose: { type: "boolean", default: false },
  },
});
const MAX_REQUESTS = Number(args.requests);
const MAX_SECONDS = Number(args.seconds);
const SEED = args.seed !== undefined ? Number(args.seed) : freshRandomSeed();
const random = createSeededRandom(SEED);

const rand = () => random.next();
const int = (n: number) => Math.floor(rand() * n);
const chance = (p: number) => rand() < p;
function pick<T>(items: readonly T[]): T {
  return items[int(items.length)]!;
}

// --- the operations ------------------------------------------------------------------

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  format?: string;
  minimum?: number;
  maximum?: number;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  nullable?: boolean;
}

interface Operation {
  method: string;
  path: string;
  pathParams: { name: string; schema: JsonSchema }[];
  query: { name: string; schema: JsonSchema; required: boolean }[];
  body: JsonSchema | undefined;
  multipart: boolean;
}

/** Where a server may serve OpenAPI documents; those that answer are walked. */
const DOCUMENT_CANDIDATES = ["/openlinq/v1/openapi.json", "/api/partner/v3/openapi.json", "/openlinq/v1/openapi/v3.json", "/docs/json"];

/**
 * Fault injection answers 5xx on purpose; streams never end; revoking a token would sooner
 * or later revoke the fuzzer's own (ids are small numbers it tries), leaving every later
 * request a 401 that reaches no route.
 */
const EXCLUDED = [/^\/openlinq\/v1\/faults/, /\/stream$/, /^\/openlinq\/v1\/tokens\/\{/];

function operationsOf(document: any): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries<any>(document.paths ?? {})) {
    if (EXCLUDED.some((pattern) => pattern.test(path))) continue;
    for (const method of ["get", "post", "put", "patch", "delete"]) {
      const op = item[method];
      if (!op) continue;
      const produces = Object.keys(op.responses?.["200"]?.content ?? {});
      if (produces.includes("text/event-stream")) continue;
      const params: any[] = [...(item.parameters ?? []), ...(op.parameters ?? [])];
      const content = op.requestBody?.content ?? {};
      const body = content["application/json"]?.schema ?? content["multipart/form-data"]?.schema;
      operations.push({
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === "path").map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        query: params.filter((p) => p.in === "query").map((p) => ({ name: p.name, schema: p.schema ?? {}, required: !!p.required })),
        body,
        multipart: "multipart/form-data" in content,
      });
    }
  }
  return operations;
}

// --- values ----------------------------------------------------------------------------

interface Pools {
  ids: number[];
  uuids: string[];
  handles: string[];
  urls: string[];
}

const HOSTILE_STRINGS = [
  "",
  " ",
  "\u0000",
  "null",
  "%E0%A4%A",
  "%",
  "%%32%65",
  "../../../../etc/passwd",
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  "💥🔥".repeat(50),
  "\u202e\u0301\ud800",
  "é".repeat(3000),
  "a".repeat(70_000),
  "+1".padEnd(400, "9"),
  "__proto__",
  "constructor",
  "1e400",
  "-0",
  "NaN",
  "0x10",
  "\r\nX-Injected: 1",
];
const HOSTILE_NUMBERS = [0, -1, -2147483649, 2147483648, 4294967296, 9007199254740993, 1e23, 1e308, -1e308, 0.5, 99999999999999999999999];
const HUGE_DIGITS = ["9".repeat(23), "9".repeat(80), "-" + "9".repeat(40), "1e400", "0x7fffffff", "１２３"];

function hostileValue(depth = 0): unknown {
  switch (int(8)) {
    case 0:
      return pick(HOSTILE_STRINGS);
    case 1:
      return pick(HOSTILE_NUMBERS);
    case 2:
      return pick([true, false, null]);
    case 3:
      return depth > 2 ? [] : Array.from({ length: int(4) }, () => hostileValue(depth + 1));
    case 4:
      return depth > 2 ? {} : { [pick(["__proto__", "constructor", "x", "", "a[b]"])]: hostileValue(depth + 1) };
    case 5:
      return pick(HUGE_DIGITS);
    case 6: {
      // Deep nesting.
      let value: unknown = 1;
      for (let i = 0; i < 200; i++) value = { a: value };
      return value;
    }
    default:
      return Array.from({ length: 2000 }, () => "x");
  }
}

function validValue(name: string, schema: JsonSchema, pools: Pools, depth = 0): unknown {
  const variants = schema.oneOf ?? schema.anyOf;
  if (variants?.length) return validValue(name, pick(variants), pools, depth);
  if (schema.enum?.length) return pick(schema.enum);
  const type = Array.isArray(schema.type) ? pick(schema.type.filter((t) => t !== "null")) : schema.type;
  const lower = name.toLowerCase();
  switch (type) {
    case "integer":
    case "number": {
      if (lower.includes("page") || lower.includes("limit")) return 1 + int(5);
      if (lower.endsWith("_ms") || lower.includes("delay") || lower.includes("duration")) return int(3000);
      if (lower === "version") return 2;
      return pools.ids.length ? pick(pools.ids) : 1;
    }
    case "boolean":
      return chance(0.5);
    case "array": {
      const items = schema.items ?? { type: "string" };
      return Array.from({ length: 1 + int(3) }, () => validValue(name, items, pools, depth + 1));
    }
    case "object": {
      if (depth > 4) return {};
      const out: Record<string, unknown> = {};
      for (const [key, sub] of Object.entries(schema.properties ?? {})) {
        if ((schema.required ?? []).includes(key) || chance(0.6)) out[key] = validValue(key, sub, pools, depth + 1);
      }
      return out;
    }
    default: {
      if (schema.format === "uuid" || lower.endsWith("uuid")) return pools.uuids.length ? pick(pools.uuids) : crypto.randomUUID();
      if (schema.format === "date-time" || lower.endsWith("_at") || lower === "since" || lower === "before" || lower === "to") {
        if (lower === "to") return pick(pools.handles);
        return new Date(Date.UTC(2026, 10, 1 + int(60))).toISOString();
      }
      if (lower.includes("url")) return pick(pools.urls);
      if (lower.includes("phone") || lower.includes("handle") || lower === "from" || lower === "send_from") return pick(pools.handles);
      if (lower.includes("email")) return `fuzz${int(1000)}@example.com`;
      if (lower === "type" || lower === "operation") return pick(["love", "like", "add", "remove", "script", "echo", "none"]);
      if (lower.includes("event")) return pick(["message.sent", "message.received", "chat.created"]);
      return pick(["hello", "Fuzz text", "ok", "テスト", "x".repeat(40)]);
    }
  }
}

function mutate(value: unknown, pools: Pools): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return chance(0.5) ? hostileValue() : value;
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const action = int(5);
  if (action === 0 && keys.length) delete copy[pick(keys)];
  else if (action === 1 && keys.length) copy[pick(keys)] = hostileValue();
  else if (action === 2) copy[pick(["extra", "__proto__", "constructor", "id", "zzz"])] = hostileValue();
  else if (action === 3 && keys.length) {
    const key = pick(keys);
    copy[key] = mutate(copy[key], pools);
  } else return hostileValue();
  return copy;
}

/** `{message:{text:"x", attachment_urls:["u"]}}` → `message[text]=x`, `message[attachment_urls][]=u`. */
function toBracketParts(value: unknown, prefix = ""): MultipartPart[] {
  if (Array.isArray(value)) return value.flatMap((item) => toBracketParts(item, `${prefix}[]`));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, sub]) => toBracketParts(sub, prefix === "" ? key : `${prefix}[${key}]`));
  }
  return [[prefix || "value", String(value)]];
}

/** encodeURIComponent, except that a lone surrogate becomes the bytes of its (invalid) UTF-8. */
function encode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return encodeURIComponent(text.replace(/[\ud800-\udfff]/g, "")) + "%ED%A0%80";
  }
}

// --- requests --------------------------------------------------------------------------

interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
  note: string;
}

function pathValue(name: string, schema: JsonSchema, pools: Pools): string {
  if (chance(0.8)) {
    const value = validValue(name, schema, pools);
    return encode(String(value));
  }
  return pick([
    ...HUGE_DIGITS,
    "0",
    "-1",
    "abc",
    "%E0%A4%A",
    "%",
    "%00",
    "a".repeat(120),
    "9".repeat(500),
    encode("💥"),
    "..",
    "%2e%2e",
    "1;DROP",
    "1.5",
  ]);
}

async function buildRequest(op: Operation, pools: Pools, token: string): Promise<FuzzRequest> {
  let path = op.path;
  for (const param of op.pathParams) path = path.replace(`{${param.name}}`, pathValue(param.name, param.schema, pools));
  const query: string[] = [];
  for (const param of op.query) {
    if (!param.required && chance(0.5)) continue;
    if (param.required && chance(0.05)) continue;
    const value = chance(0.7) ? validValue(param.name, param.schema, pools) : chance(0.5) ? pick(HUGE_DIGITS) : hostileValue();
    const text = typeof value === "object" ? JSON.stringify(value) : String(value);
    query.push(`${encodeURIComponent(param.name)}=${chance(0.1) ? pick(["%E0%A4%A", "%", "%zz"]) : encode(text)}`);
    if (chance(0.05)) query.push(`${encodeURIComponent(param.name)}=2`);
  }
  if (chance(0.05)) query.push(`unknown_${int(9)}=${encode(String(hostileValue()))}`);
  if (chance(0.01)) query.push(`q=${"a".repeat(60_000)}`);
  const url = `${path}${query.length ? `?${query.join("&")}` : ""}`;

  const headers: Record<string, string> = {};
  // Mostly the token the way the face takes it (V2: the integration header, V3: a bearer
  // token, our own endpoints: either), so requests reach the routes; sometimes the other
  // way, a wrong one or none.
  const auth = rand();
  const scheme = op.path.startsWith("/api/partner/v3/") ? "bearer" : op.path.startsWith("/api/partner/v2/") ? "header" : pick(["header", "bearer"]);
  const other = scheme === "bearer" ? "header" : "bearer";
  const give = (how: string, value: string) => {
    if (how === "bearer") headers.authorization = `Bearer ${value}`;
    else headers["x-linq-integration-token"] = value;
  };
  if (auth < 0.93) give(scheme, token);
  else if (auth < 0.95) give(other, token);
  else if (auth < 0.97) give(scheme, pick(["wrong", "", "x".repeat(5000), "é"]));

  const request: FuzzRequest = { method: op.method, url, headers, note: "" };
  if (op.method === "GET" || op.method === "DELETE") {
    if (chance(0.03)) {
      request.payload = "{";
      headers["content-type"] = "application/json";
      request.note = "body on GET";
    }
    return request;
  }
  const valid = op.body ? validValue("body", op.body, pools) : {};
  const body = chance(0.35) ? valid : mutate(valid, pools);
  const encoding = rand();
  if (encoding < 0.55) {
    request.payload = JSON.stringify(body);
    headers["content-type"] = "application/json";
    request.note = "json";
  } else if (encoding < 0.62) {
    const text = JSON.stringify(body) ?? "";
    request.payload = text.slice(0, int(text.length + 1)) + pick(["", "}", "\u0000", '"', "\\u12"]);
    headers["content-type"] = "application/json";
    request.note = "broken json";
  } else if (encoding < 0.85 || op.multipart) {
    const parts = toBracketParts(body);
    if (chance(0.5)) {
      const file = pick([
        { filename: "pixel.png", data: PNG, type: "image/png" },
        { filename: "doc.pdf", data: PDF, type: "application/pdf" },
        { filename: "%E0%A4%A.txt", data: Buffer.from("plain text"), type: "text/plain" },
        { filename: "../../evil.exe", data: Buffer.from([0x4d, 0x5a, 0, 0, 1, 2]), type: "application/octet-stream" },
        { filename: "", data: Buffer.alloc(0), type: "" },
      ]);
      parts.push([pick(["message[attachments][]", "file", "attachments[]", "message[attachments]"]), file]);
    }
    const { payload, contentType } = await encodeMultipart(parts);
    const damage = rand();
    if (damage < 0.25) {
      request.payload = payload.subarray(0, int(payload.byteLength));
      request.note = "truncated multipart";
    } else if (damage < 0.4) {
      const at = int(payload.byteLength);
      request.payload = Buffer.concat([payload.subarray(0, at), Buffer.from(pick(["\r\n\r\n", "--\r\n", "\u0000", "Content-Disposition: form-data\r\n"])), payload.subarray(at)]);
      request.note = "garbled multipart";
    } else {
      request.payload = payload;
      request.note = "multipart";
    }
    headers["content-type"] = chance(0.05) ? "multipart/form-data" : chance(0.03) ? `${contentType}; boundary=other` : contentType;
  } else if (encoding < 0.92) {
    request.payload = new URLSearchParams(toBracketParts(body).map(([k, v]) => [k, String(v)])).toString();
    headers["content-type"] = "application/x-www-form-urlencoded";
    request.note = "urlencoded";
  } else if (encoding < 0.96) {
    request.payload = pick(["", "garbage", "\u0000\u0001", "<xml/>"]);
    headers["content-type"] = pick(["text/plain", "application/xml", "application/json; charset=latin1", "", "application/octet-stream"]);
    request.note = "odd content-type";
  } else {
    request.payload = JSON.stringify({ padding: "x".repeat(1_100_000) });
    headers["content-type"] = "application/json";
    request.note = "oversized json";
  }
  return request;
}

// --- the store afterwards --------------------------------------------------------------

async function checkStore(t: TestApp, keepUploads: Set<string>): Promise<string[]> {
  const problems: string[] = [];
  const db = t.openlinq.storage.db;
  const storage = t.openlinq.config.storage;
  if (storage.kind === "sqlite") {
    // A second connection of its own, as an operator's sqlite3 shell would be.
    const sqlite = new SQLite(storage.file, { readonly: true });
    try {
      const integrity = sqlite.prepare("PRAGMA integrity_check").pluck().all();
      if (integrity.join() !== "ok") problems.push(`PRAGMA integrity_check: ${integrity.join("; ")}`);
      const foreign = sqlite.prepare("PRAGMA foreign_key_check").all();
      if (foreign.length) problems.push(`PRAGMA foreign_key_check: ${JSON.stringify(foreign.slice(0, 5))}`);
    } finally {
      sqlite.close();
    }
  }
  const chats = await db.selectFrom("chats").select(["id", "message_count"]).execute();
  const counts = new Map<number, number>();
  for (const row of await db.selectFrom("messages").select(["chat_id"]).execute()) counts.set(row.chat_id, (counts.get(row.chat_id) ?? 0) + 1);
  for (const chat of chats) {
    if ((counts.get(chat.id) ?? 0) !== chat.message_count) {
      problems.push(`chat ${chat.id}: message_count ${chat.message_count} but ${counts.get(chat.id) ?? 0} messages`);
    }
  }
  const rows = await db.selectFrom("attachments").select(["storage_key"]).execute();
  const keys = new Set(rows.map((r) => r.storage_key));
  const root = join(t.dataDir, "attachments");
  const onDisk = existsSync(root)
    ? readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => ({ dir: e.parentPath, name: e.name }))
    : [];
  for (const file of onDisk) {
    const staged = file.dir.split(/[\\/]/).some((part) => part.startsWith("."));
    if (staged) problems.push(`staged file left behind: ${join(file.dir, file.name)}`);
    else if (!keys.has(file.name) && !keepUploads.has(file.name)) problems.push(`file without an attachment row: ${file.name}`);
  }
  const names = new Set(onDisk.map((f) => f.name));
  for (const key of keys) if (!names.has(key)) problems.push(`attachment row without its file: ${key}`);
  return problems;
}

// --- the run ---------------------------------------------------------------------------

async function main() {
  const started = Date.now();
  const names = Object.fromEntries(["cdn.example", "files.example", "hooks.example", "internal.example"].map((n) => [n, ["11.22.33.44"]]));
  names["internal.example"] = ["10.0.0.7"];
  const network = fakeNetwork(names);
  const files: FileServer = await startFileServer({
    "/image.png": { body: PNG, type: "image/png" },
    "/doc.pdf": { body: PDF, type: "application/pdf" },
    "/note.txt": { body: "hello from the cdn", type: "text/plain" },
    "/big.bin": { body: Buffer.alloc(2 * 1024 * 1024, 7), type: "application/octet-stream" },
    "/chunked.png": { body: PNG, type: "image/png", chunked: true },
    "/%E0%A4%A.png": { body: PNG, type: "image/png" },
    "/named": { body: PNG, headers: { "content-disposition": "attachment; filename*=UTF-8''%E0%A4%A%ZZ.png" } },
    "/error": { body: "boom", status: 500 },
  });
  const receiver: Receiver = await startReceiver();
  const port = new URL(files.url("/")).port;
  const urls = [
    files.url("/image.png"),
    files.url("/doc.pdf"),
    files.url("/note.txt"),
    files.url("/big.bin"),
    files.url("/chunked.png"),
    files.url("/%E0%A4%A.png"),
    files.url("/named"),
    files.url("/error"),
    files.url("/missing"),
    `http://cdn.example:${port}/image.png`,
    `http://internal.example:${port}/image.png`,
    `http://unknown.example:${port}/image.png`,
    `http://2130706433:${port}/image.png`,
    `http://[::ffff:7f00:1]:${port}/image.png`,
    `${receiver.url}/hooks`,
    `http://hooks.example:${new URL(receiver.url).port}/hooks`,
    "javascript:alert(1)",
    "file:///etc/passwd",
    "http://[::1",
    "http://",
    "not a url",
    "ftp://cdn.example/x",
  ];

  const t = await startTestApp("sqlite", {
    config: { WEBHOOK_TIMEOUT: "2s", WEBHOOK_CLAIM_TTL: "5s", WEBHOOK_RETRY_SCHEDULE: "1s" },
    overrides: { network },
  });
  await t.openlinq.listen();

  // Something for ids to point at.
  const pools: Pools = { ids: [1, 2, 3], uuids: [], handles: [OUR_NUMBER, "+15551234567", "+15557654321", "fuzz@example.com"], urls };
  const seedChat = await t.request("POST", "/api/partner/v2/chats", {
    body: { send_from: OUR_NUMBER, chat: { phone_numbers: ["+15551234567"] }, message: { text: "seed", attachment_urls: [files.url("/image.png")] } },
  });
  if (seedChat.status !== 200) throw new Error(`seeding failed: ${seedChat.raw}`);
  pools.ids.push(seedChat.body.data.id, seedChat.body.data.chat_messages?.id ?? seedChat.body.data.message?.id);
  for (const attachment of seedChat.body.data.message?.attachments ?? []) pools.uuids.push(attachment.id);
  await t.request("POST", "/api/partner/v2/webhook_subscriptions", {
    body: { webhook_url: `${receiver.url}/hooks`, version: 2, events: ["message.sent", "message.received"] },
  });

  const documents: { url: string; operations: Operation[] }[] = [];
  const seenOperations = new Set<string>();
  for (const url of DOCUMENT_CANDIDATES) {
    const res = await t.request("GET", url);
    if (res.status !== 200 || typeof res.body !== "object" || !res.body?.paths) continue;
    const operations = operationsOf(res.body).filter((op) => {
      const key = `${op.method} ${op.path}`;
      if (seenOperations.has(key)) return false;
      seenOperations.add(key);
      return true;
    });
    documents.push({ url, operations });
  }
  const operations = documents.flatMap((d) => d.operations);
  if (operations.length === 0) throw new Error("no OpenAPI document found");
  console.log(
    `fuzz: seed ${SEED}, up to ${MAX_REQUESTS} requests or ${MAX_SECONDS} s; ` +
      documents.map((d) => `${d.url} (${d.operations.length} operations)`).join(", "),
  );

  const statuses = new Map<number, number>();
  const failures: string[] = [];
  const keepUploads = new Set<string>();
  let sent = 0;
  const deadline = started + MAX_SECONDS * 1000;
  while (sent < MAX_REQUESTS && Date.now() < deadline) {
    const op = operations[sent % operations.length === 0 ? int(operations.length) : int(operations.length)]!;
    const request = await buildRequest(op, pools, t.token);
    sent += 1;
    let status: number;
    let raw = "";
    try {
      const response = await t.openlinq.http.inject({
        method: request.method as "GET",
        url: request.url,
        headers: request.headers,
        ...(request.payload !== undefined ? { payload: request.payload } : {}),
      });
      status = response.statusCode;
      raw = response.body;
    } catch (error) {
      status = 599;
      raw = String(error);
    }
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (status >= 500) {
      const excerpt = typeof request.payload === "string" ? request.payload.slice(0, 300) : request.payload ? `<${request.payload.byteLength} bytes>` : "";
      failures.push(`${status} ${request.method} ${request.url.slice(0, 300)} [${request.note}] ${excerpt}\n    → ${raw.slice(0, 400)}`);
    }
    if (status >= 200 && status < 300 && raw) {
      // Learn ids and uuids the server hands out, so later requests reach real rows.
      for (const match of raw.matchAll(/"(?:id|chat_id|message_id|chat_message_id)":"?(\d{1,9})"?/g)) {
        if (pools.ids.length < 200) pools.ids.push(Number(match[1]));
      }
      for (const match of raw.matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g)) {
        if (pools.uuids.length < 200) pools.uuids.push(match[0]);
        if (request.url.includes("/inbox/uploads")) keepUploads.add(match[0]);
      }
    }
    if (args.verbose && sent % 1000 === 0) console.log(`  ${sent} requests, ${failures.length} 5xx`);
  }

  // A run whose token stopped working tested only the authentication wall: say so, and fail.
  const stillAuthorized = (await t.request("GET", "/openlinq/v1/tokens")).status;
  const lostToken = stillAuthorized !== 200;

  // Let in-flight simulator work and webhook attempts finish before looking at the store.
  await t.openlinq.outbound.runDue();
  await t.openlinq.worker?.runDue();
  const problems = await checkStore(t, keepUploads);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  await t.close();
  await receiver.close();
  await files.close();

  const histogram = [...statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(" ");
  const fivexx = [...statuses.entries()].filter(([s]) => s >= 500).reduce((sum, [, n]) => sum + n, 0);
  console.log(`fuzz: ${sent} requests in ${seconds} s, ${fivexx} answered 5xx; statuses ${histogram}`);
  for (const failure of failures.slice(0, 20)) console.log(`  ${failure}`);
  if (failures.length > 20) console.log(`  … and ${failures.length - 20} more`);
  for (const problem of problems.slice(0, 20)) console.log(`  store: ${problem}`);
  console.log(`fuzz: store checks ${problems.length === 0 ? "passed" : `found ${problems.length} problem(s)`} (seed ${SEED})`);
  if (lostToken) console.log(`fuzz: the token stopped working (GET /openlinq/v1/tokens answered ${stillAuthorized}): requests after that never reached a route`);
  process.exitCode = fivexx > 0 || problems.length > 0 || lostToken ? 1 : 0;
}

await main();
