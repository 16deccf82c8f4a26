import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { PNG } from "../fixtures/media.ts";

/**
 * Bounded memory under any single request (`npm run test:limits`, outside `npm test`: it
 * moves gigabytes over loopback). The server runs as its own process, as in production, and
 * its peak resident memory (VmHWM in /proc/PID/status) is read after the worst single
 * request — ten attachment URLs of the largest size, and ten uploads of the largest size —
 * and after ten such requests at once. Files come from a loopback server on port 0 that
 * generates them as it sends, so the test process holds none of them either.
 */

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "openlinq.js");
const TOKEN = "limits-test-token";
const MiB = 1024 * 1024;
const MAX_BYTES = 100 * MiB;
const RSS_LIMIT_MB = 300;

/** A PNG signature and header, then zeros up to `size`: detected as image/png, produced on the fly. */
function pngStream(size: number): Readable {
  const chunk = Buffer.alloc(256 * 1024);
  let sent = 0;
  return new Readable({
    read() {
      if (sent === 0) {
        this.push(PNG.subarray(0, 33));
        sent = 33;
        return;
      }
      if (sent >= size) return void this.push(null);
      const n = Math.min(chunk.byteLength, size - sent);
      sent += n;
      this.push(n === chunk.byteLength ? chunk : chunk.subarray(0, n));
    },
  });
}

function peakMb(pid: number): { hwm: number; rss: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)![1]);
  return { hwm: kb("VmHWM") / 1024, rss: kb("VmRSS") / 1024 };
}

describe("bounded memory under the worst requests (server as a child process)", { timeout: 900_000 }, () => {
  let files: Server;
  let filesBase: string;
  let server: ChildProcess;
  let api: string;
  let dataDir: string;
  let chatId: number;
  const figures: string[] = [];

  before(async () => {
    files = createServer((req, res) => {
      const size = Number(/size=(\d+)/.exec(req.url ?? "")?.[1] ?? 1024);
      res.writeHead(200, { "content-type": "image/png", "content-length": String(size) });
      pngStream(size).pipe(res);
    });
    await new Promise<void>((resolve) => files.listen(0, "127.0.0.1", resolve));
    filesBase = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;

    dataDir = mkdtempSync(join(tmpdir(), "openlinq-limits-"));
    server = spawn(process.execPath, [BIN, "serve"], {
      env: {
        ...process.env,
        OPENLINQ_DATA_DIR: dataDir,
        OPENLINQ_PORT: "0",
        OPENLINQ_TOKEN: TOKEN,
        OPENLINQ_RATE_LIMIT: "0",
        OPENLINQ_LOG_LEVEL: "warn",
        OPENLINQ_MAX_ATTACHMENT_BYTES: String(MAX_BYTES),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    api = await new Promise<string>((resolve, reject) => {
      let output = "";
      const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 120_000);
      server.stdout!.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        const match = /API\s+(http:\/\/\S+\/api\/partner\/v2)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      server.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
      server.on("exit", (code) => reject(new Error(`serve exited with ${code}:\n${output}`)));
    });
    const created = await call("POST", "/chats", {
      send_from: "+19998887777",
      chat: { phone_numbers: ["+15558880001"] },
      message: { text: "memory test" },
    });
    chatId = created.data.id;
    figures.push(`after start: peak ${peakMb(server.pid!).hwm.toFixed(0)} MB`);
  });

  after(async () => {
    console.log(`server memory (VmHWM, limit ${RSS_LIMIT_MB} MB): ${figures.join("; ")}`);
    server?.kill("SIGTERM");
    await new Promise((resolve) => server?.once("exit", resolve));
    files?.closeAllConnections();
    files?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function call(method: "POST" | "GET", path: string, body: unknown): Promise<any> {
    const res = await request(`${api}${path}`, {
      method,
      headers: { "x-linq-integration-token": TOKEN, "content-type": "application/json" },
      body: JSON.stringify(body),
      headersTimeout: 600_000,
      bodyTimeout: 600_000,
    });
    const text = await res.body.text();
    assert.ok(res.statusCode < 300, `${method} ${path}: ${res.statusCode} ${text.slice(0, 300)}`);
    return JSON.parse(text);
  }

  const urls = (count: number, size: number, tag: string) =>
    Array.from({ length: count }, (_, i) => `${filesBase}/${tag}-${i}.png?size=${size}`);

  /** A multipart body of `count` files of `size` bytes, generated while it is sent. */
  async function uploadFiles(count: number, size: number): Promise<number> {
    const boundary = "----openlinq-limits";
    async function* body() {
      yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="message[text]"\r\n\r\nuploads\r\n`);
      for (let i = 0; i < count; i++) {
        yield Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="message[attachments][]"; filename="big-${i}.png"\r\nContent-Type: image/png\r\n\r\n`,
        );
        for await (const chunk of pngStream(size)) yield chunk as Buffer;
        yield Buffer.from("\r\n");
      }
      yield Buffer.from(`--${boundary}--\r\n`);
    }
    const res = await request(`${api}/chats/${chatId}/chat_messages`, {
      method: "POST",
      headers: { "x-linq-integration-token": TOKEN, "content-type": `multipart/form-data; boundary=${boundary}` },
      body: Readable.from(body()),
      headersTimeout: 600_000,
      bodyTimeout: 600_000,
    });
    const text = await res.body.text();
    assert.equal(res.statusCode, 201, text.slice(0, 300));
    return JSON.parse(text).data.attachments.length;
  }

  it(`ten attachment URLs of ${MAX_BYTES / MiB} MiB in one message keep the server under ${RSS_LIMIT_MB} MB`, async () => {
    const sent = await call("POST", `/chats/${chatId}/chat_messages`, { text: "ten big URLs", attachment_urls: urls(10, MAX_BYTES, "single") });
    assert.equal(sent.data.attachments.length, 10);
    assert.ok(sent.data.attachments.every((a: any) => a.file_size === MAX_BYTES && a.mime_type === "image/png"));
    const { hwm } = peakMb(server.pid!);
    figures.push(`10 URLs x 100 MiB: peak ${hwm.toFixed(0)} MB`);
    assert.ok(hwm < RSS_LIMIT_MB, `peak RSS ${hwm.toFixed(0)} MB`);
  });

  it(`ten uploads of ${MAX_BYTES / MiB} MiB in one multipart request keep the server under ${RSS_LIMIT_MB} MB`, async () => {
    assert.equal(await uploadFiles(10, MAX_BYTES), 10);
    const { hwm } = peakMb(server.pid!);
    figures.push(`10 uploads x 100 MiB: peak ${hwm.toFixed(0)} MB`);
    assert.ok(hwm < RSS_LIMIT_MB, `peak RSS ${hwm.toFixed(0)} MB`);
  });

  it(`ten such requests at once (URLs and uploads) keep the server under ${RSS_LIMIT_MB} MB`, async () => {
    const size = 20 * MiB;
    const requests = Array.from({ length: 10 }, (_, n) =>
      n % 2 === 0
        ? call("POST", `/chats/${chatId}/chat_messages`, { text: `batch ${n}`, attachment_urls: urls(10, size, `batch${n}`) }).then(
            (r) => r.data.attachments.length as number,
          )
        : uploadFiles(10, size),
    );
    assert.deepEqual(await Promise.all(requests), Array(10).fill(10));
    const { hwm } = peakMb(server.pid!);
    figures.push(`10 concurrent requests x 10 files x 20 MiB: peak ${hwm.toFixed(0)} MB`);
    assert.ok(hwm < RSS_LIMIT_MB, `peak RSS ${hwm.toFixed(0)} MB`);
  });
});
