import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { EventEmitter, once } from "node:events";
import { buildApp } from "../src/app.ts";
import { loadConfig } from "../src/config/config.ts";
import { DIALECTS, OUR_NUMBER, startTestApp, type TestApp } from "./helpers/app.ts";
import { startFileServer, type FileServer } from "./helpers/file-server.ts";
import { PNG } from "./fixtures/media.ts";
import { V2, assertRenderError, createChat, listMessages, sendMessage } from "./helpers/v2.ts";

/** Every file under the data dir's attachment store, staging included. */
function filesOnDisk(dataDir: string): string[] {
  const root = join(dataDir, "attachments");
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

for (const dialect of DIALECTS) {
  describe(`attachment limits (${dialect})`, () => {
    let t: TestApp;
    let cdn: FileServer;
    let chatId: number;
    before(async () => {
      t = await startTestApp(dialect);
      cdn = await startFileServer({
        "/a.png": { body: PNG, type: "image/png" },
        "/chunked.png": { body: PNG, type: "image/png", chunked: true },
        "/gone": { body: "no", status: 404 },
      });
      chatId = (await createChat(t, ["+15552220001"])).id;
    });
    after(async () => {
      await cdn.close();
      await t.close();
    });

    it("a message carries at most 10 attachments: 11 URLs, or files and URLs together, are a 422 before any download", async () => {
      const urls = (n: number) => Array.from({ length: n }, (_, i) => cdn.url(`/a.png?${i}`));
      const before = cdn.requests.length;
      assertRenderError(await sendMessage(t, chatId, { text: "x", attachment_urls: urls(11) }), 422, /at most 10 attachments/);
      const mixed = await t.multipart("POST", `${V2}/chats/${chatId}/chat_messages`, [
        ["message[text]", "mixed"],
        ...urls(5).map((url) => ["message[attachment_urls][]", url] as [string, string]),
        ...Array.from({ length: 6 }, () => ["message[attachments][]", { filename: "p.png", data: PNG }] as [string, { filename: string; data: Buffer }]),
      ]);
      assertRenderError(mixed, 422, /at most 10 attachments/);
      const created = await t.request("POST", `${V2}/chats`, {
        body: { send_from: OUR_NUMBER, chat: { phone_numbers: ["+15552220002"] }, message: { text: "x", attachment_urls: urls(11) } },
      });
      assertRenderError(created, 422, /at most 10 attachments/);
      assert.equal(cdn.requests.length, before, "nothing was downloaded");
      const ten = await sendMessage(t, chatId, { text: "ten", attachment_urls: urls(10) });
      assert.equal(ten.status, 201, ten.raw);
      assert.equal(ten.body.data.attachments.length, 10);
    });

    it("when one download fails, the files the others staged are dropped and nothing is written", async () => {
      const stored = filesOnDisk(t.dataDir).length;
      const res = await sendMessage(t, chatId, {
        text: "one bad",
        attachment_urls: [cdn.url("/a.png?x"), cdn.url("/gone"), cdn.url("/chunked.png")],
      });
      assertRenderError(res, 422, /gone/);
      assert.equal(filesOnDisk(t.dataDir).length, stored, "no file left behind, staged or stored");
      const uploadRefused = await t.multipart("POST", `${V2}/chats/${chatId}/chat_messages`, [
        ["message[text]", "upload then a bad URL"],
        ["message[attachments][]", { filename: "p.png", data: PNG }],
        ["message[attachment_urls][]", cdn.url("/gone")],
      ]);
      assertRenderError(uploadRefused, 422);
      assert.equal(filesOnDisk(t.dataDir).length, stored, "the staged upload was dropped with the answer");
      assert.equal((await listMessages(t, chatId)).filter((m) => m.text !== "Hello" && m.text !== "ten").length, 0);
    });
  });
}

describe("attachment downloads are bounded server-wide", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp("sqlite", { config: { ATTACHMENT_DOWNLOAD_CONCURRENCY: "2" } });
  });
  after(() => t.close());

  it("with OPENLINQ_ATTACHMENT_DOWNLOAD_CONCURRENCY=2, two requests of three URLs never have more than two downloads in flight", { timeout: 60_000 }, async () => {
    // A CDN that holds every answer until the test lets it go, one at a time.
    const held: ServerResponse[] = [];
    const arrivals = new EventEmitter();
    let inFlight = 0;
    let most = 0;
    const server = createServer((_req, res) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      res.on("finish", () => (inFlight -= 1));
      held.push(res);
      arrivals.emit("request");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const chat = await createChat(t, ["+15552220003"]);
      const sends = [1, 2].map((n) =>
        sendMessage(t, chat.id, { text: `batch ${n}`, attachment_urls: [1, 2, 3].map((i) => `${base}/f${n}-${i}.png`) }),
      );
      for (let answered = 0; answered < 6; answered++) {
        // Two at a time must get through (fewer would stall this loop: the test's timeout says so).
        while (held.length < Math.min(2, 6 - answered)) await once(arrivals, "request");
        held.shift()!.writeHead(200, { "content-type": "image/png" }).end(PNG);
      }
      const results = await Promise.all(sends);
      for (const res of results) assert.equal(res.status, 201, res.raw);
      assert.equal(most, 2, `two downloads at once, never more (saw ${most})`);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe("attachment files left behind are swept at start", () => {
  it("removes staged leftovers and files without a row once an hour old, and keeps everything else", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "openlinq-sweep-"));
    const config = loadConfig({}, { DATA_DIR: dataDir, TOKEN: "sweep-token-1", PORT: "0", LOG_LEVEL: "silent", RATE_LIMIT: "0" });
    const cdn = await startFileServer({ "/a.png": { body: PNG, type: "image/png" } });
    try {
      const first = await buildApp(config);
      const res = await first.http.inject({
        method: "POST",
        url: `${V2}/chats`,
        headers: { "x-linq-integration-token": "sweep-token-1", "content-type": "application/json" },
        payload: JSON.stringify({
          send_from: OUR_NUMBER,
          chat: { phone_numbers: ["+15552220004"] },
          message: { text: "kept", attachment_urls: [cdn.url("/a.png")] },
        }),
      });
      assert.equal(res.statusCode, 200, res.body);
      await first.close();
      const kept = filesOnDisk(dataDir);
      assert.equal(kept.length, 1);
      const hoursAgo = new Date(Date.now() - 2 * 3_600_000);
      // Old leftovers: an orphan file, a staged file.
      const orphan = randomUUID();
      mkdirSync(join(dataDir, "attachments", orphan.slice(0, 2)), { recursive: true });
      writeFileSync(join(dataDir, "attachments", orphan.slice(0, 2), orphan), "orphan");
      utimesSync(join(dataDir, "attachments", orphan.slice(0, 2), orphan), hoursAgo, hoursAgo);
      const staged = join(dataDir, "attachments", ".staging", randomUUID());
      writeFileSync(staged, "half a download");
      utimesSync(staged, hoursAgo, hoursAgo);
      utimesSync(kept[0]!, hoursAgo, hoursAgo);
      // Fresh ones may belong to a request in flight in another process.
      const fresh = randomUUID();
      mkdirSync(join(dataDir, "attachments", fresh.slice(0, 2)), { recursive: true });
      writeFileSync(join(dataDir, "attachments", fresh.slice(0, 2), fresh), "fresh");

      const second = await buildApp(config);
      await second.close();
      assert.deepEqual(filesOnDisk(dataDir).sort(), [kept[0]!, join(dataDir, "attachments", fresh.slice(0, 2), fresh)].sort());
    } finally {
      await cdn.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
