import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, startTestApp, type TestApp } from "./helpers/app.ts";
import { startFileServer, type FileServer, type ServedFile } from "./helpers/file-server.ts";
import { fakeNetwork } from "./helpers/network.ts";
import { PNG } from "./fixtures/media.ts";
import { expectV3Error, startV3App, type V3TestApp } from "./helpers/v3.ts";
import { V2, assertRenderError, assertStandardError, createChat, listMessages, sendMessage } from "./helpers/v2.ts";

/**
 * OPENLINQ_ALLOW_PRIVATE_URLS=false: nothing private is ever fetched, however it is spelled
 * and at whatever redirect hop it appears, and webhook URLs that can only reach private
 * addresses are refused when registered. The network is fake: names resolve from a table
 * and every address leads to the loopback file server, so a request the guard failed to
 * stop would show up in that server's log.
 */
const PUBLIC = "11.22.33.44";
const network = fakeNetwork({
  "cdn.example": [PUBLIC],
  "mirror.example": ["11.22.33.45"],
  "internal.example": ["10.0.0.5", "192.168.1.9"],
  "mixed.example": ["10.0.0.6", PUBLIC],
  "metadata.example": ["169.254.169.254"],
  "hooks.example": [PUBLIC],
});

/** Every spelling of a private address a URL can carry. */
const PRIVATE_HOSTS = [
  "127.0.0.1",
  "2130706433",
  "0x7f.1",
  "0x7f000001",
  "0177.0.0.1",
  "127.1",
  "0.0.0.0",
  "0",
  "10.1.2.3",
  "169.254.169.254",
  "[::1]",
  "[::]",
  "[::127.0.0.1]",
  "[::ffff:7f00:1]",
  "[::ffff:127.0.0.1]",
  "[::ffff:a9fe:a9fe]",
  "[fe80::1]",
  "[fc00::1]",
  "[64:ff9b::7f00:1]",
];

for (const dialect of DIALECTS) {
  describe(`private addresses refused (OPENLINQ_ALLOW_PRIVATE_URLS=false, ${dialect})`, () => {
    let t: TestApp;
    let cdn: FileServer;
    let port: number;
    let chatId: number;
    const files: Record<string, ServedFile> = { "/image.png": { body: PNG, type: "image/png" } };
    const redirect = (location: string): ServedFile => ({ body: "", status: 302, headers: { location } });

    before(async () => {
      t = await startTestApp(dialect, { config: { ALLOW_PRIVATE_URLS: "false" }, overrides: { network } });
      cdn = await startFileServer(files);
      port = Number(new URL(cdn.url("/")).port);
      files["/to-public"] = redirect(`http://mirror.example:${port}/image.png`);
      files["/to-loopback"] = redirect(`http://127.0.0.1:${port}/secret/loopback`);
      files["/to-metadata"] = redirect(`http://169.254.169.254:${port}/secret/metadata`);
      files["/to-decimal"] = redirect(`http://2130706433:${port}/secret/decimal`);
      files["/to-compatible"] = redirect(`http://[::127.0.0.1]:${port}/secret/compatible`);
      files["/to-internal-name"] = redirect(`http://internal.example:${port}/secret/internal`);
      files["/hop1"] = redirect(`http://cdn.example:${port}/hop2`);
      files["/hop2"] = redirect(`http://0x7f.1:${port}/secret/third-hop`);
      chatId = (await createChat(t, ["+15556660001"])).id;
    });
    after(async () => {
      await cdn.close();
      await t.close();
    });

    const secretsRequested = () => cdn.requests.filter((path) => path.startsWith("/secret"));

    it("a public attachment URL, redirected to another public host, is downloaded", async () => {
      const res = await sendMessage(t, chatId, { text: "ok", attachment_urls: [`http://cdn.example:${port}/to-public`] });
      assert.equal(res.status, 201, res.raw);
      assert.equal(res.body.data.attachments[0].mime_type, "image/png");
    });

    it("every redirect hop is checked: a public URL redirecting to a private address is refused there", async () => {
      for (const path of ["/to-loopback", "/to-metadata", "/to-decimal", "/to-compatible", "/to-internal-name", "/hop1"]) {
        const res = await sendMessage(t, chatId, { text: "x", attachment_urls: [`http://cdn.example:${port}${path}`] });
        assertRenderError(res, 422, /private address/);
      }
      assert.deepEqual(secretsRequested(), [], "no private target was ever requested");
      assert.equal((await listMessages(t, chatId)).length, 2, "only the message with the public attachment was written");
    });

    it("attachment URLs naming a private address in any spelling are refused before any request", async () => {
      for (const host of PRIVATE_HOSTS) {
        const res = await sendMessage(t, chatId, { text: "x", attachment_urls: [`http://${host}:${port}/secret/${host}`] });
        assertRenderError(res, 422, /private|loopback/);
      }
      for (const name of ["internal.example", "metadata.example", "mixed.example"]) {
        const res = await sendMessage(t, chatId, { text: "x", attachment_urls: [`http://${name}:${port}/secret/${name}`] });
        assertRenderError(res, 422, /private address/);
      }
      assert.deepEqual(secretsRequested(), []);
    });

    it("webhook URLs that can only reach private addresses get 422 when registered or changed", async () => {
      const register = (url: string) =>
        t.request("POST", `${V2}/webhook_subscriptions`, { body: { webhook_url: url, version: 2, events: ["message.sent"] } });
      for (const host of PRIVATE_HOSTS) {
        assertStandardError(await register(`http://${host}/hooks`), 422, "VALIDATION_ERROR", /webhook_url .* private/);
      }
      for (const url of ["http://localhost:4000/hooks", "http://api.localhost/hooks", "https://internal.example/hooks", "http://metadata.example/"]) {
        assertStandardError(await register(url), 422, "VALIDATION_ERROR", /webhook_url/);
      }
      const ok = await register("https://hooks.example/linq");
      assert.equal(ok.status, 201, ok.raw);
      // A name with one public address can reach the public internet; delivery checks each connection.
      assert.equal((await register("https://mixed.example/linq")).status, 201);
      const id = ok.body.webhook_subscription.id;
      const changed = await t.request("PUT", `${V2}/webhook_subscriptions/${id}`, { body: { webhook_url: "http://[::ffff:7f00:1]/x" } });
      assertStandardError(changed, 422, "VALIDATION_ERROR", /private/);
      const list = await t.request("GET", `${V2}/webhook_subscriptions`);
      assert.equal(list.status, 200);
      assert.ok(JSON.stringify(list.body).includes("https://hooks.example/linq"), "the refused change left the URL as it was");
    });
  });

  describe(`private webhook URLs refused on the V3 face (OPENLINQ_ALLOW_PRIVATE_URLS=false, ${dialect})`, () => {
    let app: V3TestApp;
    before(async () => {
      app = await startV3App(dialect, { config: { ALLOW_PRIVATE_URLS: "false" }, overrides: { network } });
    });
    after(() => app.close());

    it("a target_url that can only reach private addresses gets 400 when created or changed", async () => {
      const create = (url: string) => app.client.webhookSubscriptions.create({ target_url: url, subscribed_events: ["message.sent"] });
      for (const host of PRIVATE_HOSTS) {
        const error = await expectV3Error(create(`http://${host}/hooks`), 400, 1005);
        assert.match(JSON.stringify(error.error), /private/);
      }
      await expectV3Error(create("https://internal.example/hooks"), 400, 1005);
      const created = await create("https://hooks.example/linq");
      await expectV3Error(app.client.webhookSubscriptions.update(created.id, { target_url: "http://[::ffff:7f00:1]/x" }), 400, 1005);
      const kept = await app.client.webhookSubscriptions.retrieve(created.id);
      assert.equal(kept.target_url, "https://hooks.example/linq", "the refused change left the URL as it was");
    });
  });
}
