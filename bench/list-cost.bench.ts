/**
 * What one list page computed afresh costs, in figures the machine's load does not move:
 * `npm run bench:list-cost [-- --pages 300 --rounds 3 --postgres --trace --baseline DIR]`.
 *
 * Builds openlinq in this process (buildApp, logs quiet, the read cache off as with
 * OPENLINQ_READ_CACHE=false, so every page is computed) on a fresh store with full first
 * pages (25 chats; 25 of a chat's messages, V2 and V3), asks each page `--pages` times one
 * at a time through Fastify's inject (no sockets), rounds interleaved, and prints per page:
 * the SQL statements the driver executed and the CPU time of this process (user + system),
 * the median over the rounds. With `--trace`, the statements of one page each, in order.
 *
 * With `--baseline DIR` (another checkout, such as the main one), that checkout's sources are
 * built into a second app in this process, on the same store: every page listed below is
 * asked of both and must come back byte for byte the same (first and later pages, contact
 * names, reactions, a group chat, filters), and the two apps take turns request by request,
 * so both are measured under the same load. Statements are counted for this checkout only.
 *
 * Statements are counted by wrapping the drivers' execute functions in statement-counter.ts (better-sqlite3's
 * Statement methods, pg's Client.query), so nothing in src/ carries instrumentation.
 */
import { parseArgs } from "node:util";
import { buildApp } from "../src/app.ts";
import { loadConfig } from "../src/config/config.ts";
import { storeSpot } from "./store-spot.ts";
import { counter } from "./statement-counter.ts";

const { values } = parseArgs({
  options: {
    pages: { type: "string", default: "300" },
    rounds: { type: "string", default: "3" },
    postgres: { type: "boolean", default: false },
    trace: { type: "boolean", default: false },
    baseline: { type: "string" },
  },
});
const PAGES = Number(values.pages);
const ROUNDS = Number(values.rounds);
const LISTED = 25;
const TOKEN = "bench-token-0001";
const OUR_NUMBER = "+19998887777";
const AUTH = { "x-linq-integration-token": TOKEN, authorization: `Bearer ${TOKEN}` };


const databaseUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const spot = storeSpot(values.postgres ? "postgres" : "sqlite", databaseUrl, "list-cost", { token: TOKEN, phoneNumber: OUR_NUMBER });
/** A second line of ours, which also takes part in a chat of the first (V2's list for it reads both kinds). */
const OTHER_LINE = "+19998887778";
const config = { ...spot.config, PHONE_NUMBERS: `${OUR_NUMBER},${OTHER_LINE}`, LOG_LEVEL: "silent", READ_CACHE: "false", WORKER: "false" };
const app = await buildApp(loadConfig({}, config));
type App = typeof app;
let baseline: App | undefined;
if (values.baseline) {
  const other = (await import(`${values.baseline}/src/app.ts`)) as { buildApp: typeof buildApp };
  const otherConfig = (await import(`${values.baseline}/src/config/config.ts`)) as { loadConfig: typeof loadConfig };
  baseline = await other.buildApp(otherConfig.loadConfig({}, config));
}

async function inject(method: "POST" | "GET", url: string, payload?: unknown, on: App = app): Promise<any> {
  const res = await on.http.inject({ method, url, headers: AUTH, ...(payload !== undefined ? { payload: payload as object } : {}) });
  if (res.statusCode >= 300) throw new Error(`${method} ${url} answered ${res.statusCode}: ${res.body}`);
  return method === "GET" ? JSON.parse(res.body) : res.json();
}

const chatIds: number[] = [];
for (let i = 0; i <= LISTED; i++) {
  const created = await inject("POST", "/api/partner/v2/chats", {
    send_from: OUR_NUMBER,
    chat: { phone_numbers: [`+1555200${String(1000 + i).padStart(4, "0")}`] },
    message: { text: `Opening message ${i}` },
  });
  chatIds.push(created.data.id);
}
const messageIds: number[] = [];
for (let i = 1; i <= LISTED; i++) {
  const sent = await inject("POST", `/api/partner/v2/chats/${chatIds[0]}/chat_messages`, { text: `Message ${i} of the listed chat` });
  messageIds.push(sent.data.id);
}
// What the pages show besides plain rows: a contact's name, reactions, a group chat.
await inject("POST", "/api/partner/v2/contacts", { contact: { first_name: "Ada", last_name: "Lovelace", phone_number: "+15552001003" } });
for (const id of messageIds.slice(0, 3)) {
  await inject("POST", `/api/partner/v2/chat_messages/${id}/reactions`, { type: "love", operation: "add" });
}
await inject("POST", "/api/partner/v2/chats", {
  send_from: OUR_NUMBER,
  chat: { phone_numbers: ["+15552009001", "+15552009002", "+15552001003"] },
  message: { text: "A group" },
});
await inject("POST", "/api/partner/v2/chats", { send_from: OUR_NUMBER, chat: { phone_numbers: [OTHER_LINE] }, message: { text: "Line to line" } });
await inject("POST", "/api/partner/v2/chats", { send_from: OTHER_LINE, chat: { phone_numbers: ["+15552001001"] }, message: { text: "From the other line" } });
const v3Chats = await inject("GET", `/api/partner/v3/chats?limit=${LISTED + 2}`);
const v3ChatId = (v3Chats.chats as { id: string; display_name: string }[]).find((c) => c.display_name === "+15552001000")!.id;

const pages: { name: string; url: string; items: (body: any) => unknown[] }[] = [
  { name: "V2 chats", url: `/api/partner/v2/chats?phone_number=${encodeURIComponent(OUR_NUMBER)}`, items: (b) => b.data },
  { name: "V2 messages", url: `/api/partner/v2/chats/${chatIds[0]}/chat_messages`, items: (b) => b.data },
  { name: "V3 chats", url: `/api/partner/v3/chats?limit=${LISTED}`, items: (b) => b.chats },
  { name: "V3 messages", url: `/api/partner/v3/chats/${v3ChatId}/messages?limit=${LISTED}`, items: (b) => b.messages },
];
for (const page of pages) {
  const n = page.items(await inject("GET", page.url)).length;
  if (n !== LISTED) throw new Error(`${page.name}: expected a full page of ${LISTED}, got ${n}`);
}

if (baseline) {
  // Later pages and filters too, each following the cursor the previous page gave.
  const compared = pages.map((p) => p.url);
  compared.push(
    `/api/partner/v2/chats?phone_number=${encodeURIComponent(OUR_NUMBER)}&page=2&per_page=10`,
    `/api/partner/v2/chats?phone_number=%2B15552001003`,
    `/api/partner/v2/chats?phone_number=%2B15559990000`,
    `/api/partner/v2/chats?phone_number=${encodeURIComponent(OTHER_LINE)}`,
    `/api/partner/v2/chats/${chatIds[0]}/chat_messages?page=2&per_page=10&sort=desc`,
    `/api/partner/v2/chats/${chatIds[0]}/chat_messages?before=2999-01-01T00:00:00Z&after=2000-01-01T00:00:00Z`,
    `/api/partner/v3/chats?from=${encodeURIComponent(OUR_NUMBER)}&to=%2B15552001003`,
  );
  for (const url of [`/api/partner/v3/chats?limit=7`, `/api/partner/v3/chats/${v3ChatId}/messages?limit=7`]) {
    let next: string | null = url;
    while (next) {
      compared.push(next);
      const body = await inject("GET", next);
      next = body.next_cursor ? `${url}&cursor=${body.next_cursor}` : null;
    }
  }
  for (const url of compared) {
    const [ours, theirs] = await Promise.all([app, baseline].map((on) => on.http.inject({ method: "GET", url, headers: AUTH })));
    if (ours!.statusCode !== theirs!.statusCode || ours!.body !== theirs!.body) {
      throw new Error(`${url}: the pages differ\nthis:     ${ours!.statusCode} ${ours!.body}\nbaseline: ${theirs!.statusCode} ${theirs!.body}`);
    }
  }
  console.log(`${compared.length} pages byte for byte the same as the baseline's`);
}

const results = new Map<string, { statements: number; cpuMs: number[]; baselineMs: number[] }>();

/**
 * One round of a page: `PAGES` requests to each app. With a baseline the two apps take turns
 * request by request, each request's CPU time counted to its app, so both run under the same
 * load however the machine's changes.
 */
async function measure(page: (typeof pages)[number], round: number): Promise<void> {
  const apps = baseline ? (round % 2 === 0 ? [baseline, app] : [app, baseline]) : [app];
  for (const on of apps) for (let i = 0; i < 30; i++) await inject("GET", page.url, undefined, on); // warm-up: JIT, statement caches, lazy schemas
  const micros = new Map<App, number>(apps.map((on) => [on, 0]));
  counter.executed.length = 0;
  for (let i = 0; i < PAGES; i++) {
    for (const on of apps) {
      counter.counting = on === app;
      const cpu = process.cpuUsage();
      await inject("GET", page.url, undefined, on);
      const used = process.cpuUsage(cpu);
      micros.set(on, micros.get(on)! + used.user + used.system);
    }
  }
  counter.counting = false;
  const result = results.get(page.name) ?? { statements: 0, cpuMs: [], baselineMs: [] };
  result.statements = counter.executed.length / PAGES;
  result.cpuMs.push(micros.get(app)! / 1000 / PAGES);
  if (baseline) result.baselineMs.push(micros.get(baseline)! / 1000 / PAGES);
  results.set(page.name, result);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  console.log(
    `list page cost on ${values.postgres ? "Postgres" : "SQLite"}, read cache off: ${PAGES} pages each, one at a time, in process, ${ROUNDS} rounds${baseline ? ", this checkout and the baseline taking turns" : ""}`,
  );
  for (let round = 0; round < ROUNDS; round++) for (const page of pages) await measure(page, round);
  const figures = (ms: number[]) => `${median(ms).toFixed(3)} ms CPU/page (median; least ${Math.min(...ms).toFixed(3)})`;
  for (const [name, result] of results) {
    console.log(`${name.padEnd(12)} ${result.statements.toFixed(1).padStart(5)} statements/page  ${figures(result.cpuMs)}`);
    if (baseline) {
      const sum = (ms: number[]) => ms.reduce((a, b) => a + b, 0);
      const ratio = sum(result.cpuMs) / sum(result.baselineMs);
      console.log(`${"".padEnd(12)} baseline:              ${figures(result.baselineMs)}; this ÷ baseline, all rounds: ${(ratio * 100).toFixed(0)} %`);
    }
  }
  if (values.trace) {
    for (const page of pages) {
      counter.executed.length = 0;
      counter.driverNs.clear();
      counter.counting = true;
      for (let i = 0; i < PAGES; i++) await inject("GET", page.url);
      counter.counting = false;
      console.log(`\n${page.name}, one page's statements in order${counter.driverNs.size > 0 ? ", µs of CPU inside better-sqlite3 per page" : ""}:`);
      for (const text of counter.executed.slice(0, counter.executed.length / PAGES)) {
        const ns = counter.driverNs.get(text);
        console.log(`  ${ns === undefined ? "" : (ns / 1e3 / PAGES).toFixed(1).padStart(6)}  ${text.replace(/\s+/g, " ").slice(0, 180)}`);
      }
    }
  }
} finally {
  await app.close();
  await baseline?.close();
  await spot.cleanup();
}
