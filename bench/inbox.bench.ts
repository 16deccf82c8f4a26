/**
 * Inbox render benchmark: `npm run bench:inbox [-- --messages 1000 --runs 5]`.
 *
 * Builds the real product (buildApp on SQLite, simulator transport, logs silent) with one
 * chat of N messages — both sides, some tapbacks and attachments, as a busy thread has —
 * and opens it cold in headless Chromium (fresh page, the bundle from cache like a return
 * visit): the figure is the time from navigation start until the newest bubble is on
 * screen; older messages are drawn in chunks right after, and the time until the oldest is
 * drawn is printed too. The baseline, measured in the same run and the same way, is a 10-message thread:
 * what page load, sign-in check and the live connection cost before any bubble.
 * Also printed: the thread API call alone and the bundle size. Target: N=1000 under 1 s.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { parseArgs } from "node:util";
import { buildApp, type OpenLinq } from "../src/app.ts";
import { loadConfig } from "../src/config/config.ts";
import { INBOX_DIST_DIR, ensureInboxBuild } from "../web/build.ts";
import { CHROMIUM_PATH, chromiumMissing, launchBrowser } from "../test/e2e/helpers/browser.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "1000" },
    runs: { type: "string", default: "5" },
  },
});
const MESSAGES = Number(values.messages);
const RUNS = Number(values.runs);
const BASELINE_MESSAGES = 10;
const TARGET_MS = 1000;
const TOKEN = "bench-inbox-token-1";
const OUR_NUMBER = "+19998887777";
const PIXEL = readFileSync(new URL("../test/fixtures/pixel.jpg", import.meta.url));

if (chromiumMissing) {
  console.error(`bench:inbox needs Chromium: ${chromiumMissing}`);
  process.exit(1);
}

async function call(app: OpenLinq, method: "GET" | "POST", url: string, body?: unknown) {
  const response = await app.http.inject({
    method,
    url,
    headers: { "x-linq-integration-token": TOKEN, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { payload: JSON.stringify(body) } : {}),
  });
  if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
  return JSON.parse(response.body) as { data: any };
}

/** A thread of `count` messages: ours and theirs alternating in runs, every 7th with a tapback, every 50th with a photo. */
async function seedThread(
  app: OpenLinq,
  recipient: string,
  count: number,
): Promise<{ chatId: number; firstId: number; lastId: number }> {
  const created = await call(app, "POST", "/api/partner/v2/chats", {
    send_from: OUR_NUMBER,
    chat: { phone_numbers: [recipient] },
    message: { text: `Message 1 of ${count}: hello there, this is where our conversation starts.` },
  });
  const chatId: number = created.data.chat.id;
  let lastId: number = created.data.message.id;
  for (let i = 2; i <= count; i++) {
    const theirs = Math.floor(i / 3) % 2 === 1;
    const text = `Message ${i} of ${count}: ${theirs ? "sure, that works for me" : "great, I will send the details over shortly"}.`;
    let id: number;
    if (theirs) {
      const attachment_urls = i % 50 === 0 ? [`${app.baseUrl()}/bench-fixture/photo-${i}.jpg`] : undefined;
      id = (await call(app, "POST", "/openlinq/v1/simulate/inbound_message", { from: recipient, chat_id: chatId, text, attachment_urls }))
        .data.message.id;
    } else {
      id = (await call(app, "POST", `/api/partner/v2/chats/${chatId}/chat_messages`, { message: { text } })).data.id;
    }
    if (i % 7 === 0) {
      await call(app, "POST", "/openlinq/v1/simulate/reaction", { from: recipient, chat_message_id: id, type: "like", operation: "add" });
    }
    lastId = id;
  }
  return { chatId, firstId: created.data.message.id, lastId };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), "openlinq-bench-inbox-"));
  const config = loadConfig(
    {},
    { DATA_DIR: dataDir, TOKEN: TOKEN, PHONE_NUMBERS: OUR_NUMBER, RATE_LIMIT: "0", LOG_LEVEL: "silent", PORT: "0" },
  );
  const app = await buildApp(config);
  // Photos for the thread come from this same server, as a CDN link would.
  app.http.get("/bench-fixture/:name", async (_request, reply) => reply.type("image/jpeg").send(PIXEL));
  await app.listen();
  const browser = await launchBrowser();
  try {
    const manifest = await ensureInboxBuild();
    const script = readFileSync(join(INBOX_DIST_DIR, "assets", manifest.script));
    const stylesheet = readFileSync(join(INBOX_DIST_DIR, "assets", manifest.stylesheet));

    process.stdout.write(`seeding a ${MESSAGES}-message thread and a ${BASELINE_MESSAGES}-message one… `);
    const seedStart = performance.now();
    const big = await seedThread(app, "+15550001000", MESSAGES);
    const small = await seedThread(app, "+15550000010", BASELINE_MESSAGES);
    console.log(`${Math.round(performance.now() - seedStart)} ms`);

    const apiTimes: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      await call(app, "GET", `/openlinq/v1/inbox/chats/${big.chatId}/thread`);
      apiTimes.push(performance.now() - started);
    }

    // Sign in once; each measured run is a new page (cold DOM and JS heap, assets from cache).
    const signIn = await browser.page();
    await signIn.goto(`${app.baseUrl()}/#token=${TOKEN}`);
    await signIn.getByRole("status").filter({ hasText: "Live" }).waitFor();
    await signIn.close();

    const measure = async (thread: { chatId: number; firstId: number; lastId: number }) => {
      const times: number[] = [];
      const complete: number[] = [];
      const fetched: number[] = [];
      const rendered: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const page = await browser.page();
        await page.goto(`${app.baseUrl()}/#/chats/${thread.chatId}`, { waitUntil: "commit" });
        // Polled every animation frame: the time is that of the first frame showing the newest bubble.
        const handle = await page.waitForFunction(
          (id) => (document.querySelector(`[data-message-id="${id}"]`) ? performance.now() : false),
          thread.lastId,
          { polling: "raf", timeout: 30_000 },
        );
        times.push((await handle.jsonValue()) as number);
        const marks = await page.evaluate(() =>
          Object.fromEntries(performance.getEntriesByType("mark").map((m) => [m.name, m.startTime])),
        );
        fetched.push(marks["inbox:thread-fetched"] ?? NaN);
        rendered.push((marks["inbox:thread-rendered"] ?? NaN) - (marks["inbox:thread-fetched"] ?? NaN));
        // Older messages are drawn in chunks after the first frame: when is the whole thread there?
        const whole = await page.waitForFunction(
          (id) => (document.querySelector(`[data-message-id="${id}"]`) ? performance.now() : false),
          thread.firstId,
          { polling: "raf", timeout: 30_000 },
        );
        complete.push((await whole.jsonValue()) as number);
        await page.close();
      }
      return { times, fetched, rendered, complete };
    };
    const baseline = await measure(small);
    const full = await measure(big);

    const ms = (x: number) => `${Math.round(x)} ms`;
    console.log(`\ninbox render (Chromium ${CHROMIUM_PATH}, ${RUNS} runs each, navigation start → newest bubble on screen)`);
    const line = (label: string, r: Awaited<ReturnType<typeof measure>>) =>
      console.log(
        `  ${label}  median ${ms(median(r.times))}   max ${ms(Math.max(...r.times))}` +
          `   (thread fetched at ${ms(median(r.fetched))}, on screen ${ms(median(r.rendered))} later;` +
          ` every message drawn at ${ms(median(r.complete))})`,
      );
    line(`baseline  ${String(BASELINE_MESSAGES).padStart(5)}-message thread`, baseline);
    line(`thread    ${String(MESSAGES).padStart(5)}-message thread`, full);
    console.log(`  cost of the ${MESSAGES - BASELINE_MESSAGES} extra messages: ${ms(median(full.times) - median(baseline.times))} (median)`);
    console.log(`  thread API alone (GET …/thread, ${MESSAGES} messages): median ${ms(median(apiTimes))}`);
    console.log(
      `  bundle: ${manifest.script} ${(script.length / 1024).toFixed(1)} KiB (${(gzipSync(script).length / 1024).toFixed(1)} KiB gzip), ` +
        `${manifest.stylesheet} ${(stylesheet.length / 1024).toFixed(1)} KiB (${(gzipSync(stylesheet).length / 1024).toFixed(1)} KiB gzip)`,
    );
    const verdict = median(full.times) < TARGET_MS ? "meets" : "MISSES";
    console.log(`  target: first render of the ${MESSAGES}-message thread under ${TARGET_MS} ms — ${verdict}`);
  } finally {
    await browser.close();
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
