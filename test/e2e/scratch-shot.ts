import { deflateSync } from "node:zlib";
import { launchBrowser, PHONE } from "./helpers/browser.ts";
import { startInboxServer } from "./helpers/inbox.ts";
import { OUR_NUMBER } from "../helpers/app.ts";
import { startReceiver } from "../helpers/receiver.ts";

function crc32(buf: Buffer) { let c, crc = 0xffffffff; for (let n = 0; n < buf.length; n++) { c = (crc ^ buf[n]!) & 0xff; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; crc = (crc >>> 8) ^ c; } return (crc ^ 0xffffffff) >>> 0; }
function png(w: number, h: number) {
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) { raw[y * (w * 3 + 1)] = 0; for (let x = 0; x < w; x++) { const o = y * (w * 3 + 1) + 1 + x * 3; raw[o] = 40 + (x * 200) / w; raw[o + 1] = 120 + (y * 100) / h; raw[o + 2] = 220; } }
  const chunk = (type: string, data: Buffer) => { const len = Buffer.alloc(4); len.writeUInt32BE(data.length); const td = Buffer.concat([Buffer.from(type), data]); const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td)); return Buffer.concat([len, td, crc]); };
  const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

const t = await startInboxServer();
const rec = await startReceiver({ status: 500 });
await t.request("POST", "/api/partner/v2/webhook_subscriptions", { body: { webhook_url: rec.url + "/hook", version: 2, events: ["message.sent", "message.received", "reaction.received"] } });
const send = (body: unknown) => t.request("POST", "/api/partner/v2/chats", { body });
await send({ phone_numbers: ["+15551234567"], message: { text: "Hello! This is my first message via the Linq API." }, phone_number: OUR_NUMBER });
const g = await send({ send_from: OUR_NUMBER, chat: { phone_numbers: ["+15557654321", "+15550001111"], display_name: "Launch team" }, message: { text: "Welcome to the launch group 🎉" } });
const chatId = g.body.data.chat.id;
const sim = (path: string, body: unknown) => t.request("POST", "/openlinq/v1/simulate/" + path, { body });
await sim("inbound_message", { from: "+15557654321", chat_id: chatId, text: "Thanks! Excited to be here." });
await sim("inbound_message", { from: "+15557654321", chat_id: chatId, text: "When is the kickoff?" });
await sim("inbound_message", { from: "+15550001111", chat_id: chatId, text: "Same question 🙂" });
await t.multipart("POST", `/api/partner/v2/chats/${chatId}/chat_messages`, [["message[text]", "Kickoff is Monday 10am. Here is the venue:"], ["message[attachments][]", { filename: "venue.png", data: png(480, 320), type: "image/png" }]]);
const pdf = await t.multipart("POST", `/api/partner/v2/chats/${chatId}/chat_messages`, [["message[attachments][]", { filename: "agenda.pdf", data: Buffer.from("%PDF-1.4\n%test\n"), type: "application/pdf" }]]);
await sim("reaction", { from: "+15557654321", chat_message_id: pdf.body.data.id, type: "like", operation: "add" });
await sim("reaction", { from: "+15550001111", chat_message_id: pdf.body.data.id, type: "like", operation: "add" });
await sim("read", { from: "+15557654321", chat_id: chatId });
await sim("typing", { from: "+15550001111", chat_id: chatId, state: "started" });
for (let i = 0; i < 3; i++) await send({ phone_numbers: [`+1555300000${i}`], message: { text: `Reminder ${i}: your appointment is tomorrow at 10am. Reply YES to confirm.` }, phone_number: OUR_NUMBER });
await sim("inbound_message", { from: "+15553000001", to: OUR_NUMBER, text: "YES" });
const b = await launchBrowser();
const page = await b.page();
page.on("pageerror", (e) => console.log("pageerror:", e.message));
await page.goto(t.signInUrl);
await page.getByRole("status").filter({ hasText: "Live" }).waitFor();
await page.evaluate((id) => (location.hash = `#/chats/${id}`), chatId);
await page.locator(".bubble").first().waitFor();
await page.waitForTimeout(800);
await page.screenshot({ path: "/tmp/shots/desktop.png" });
await page.getByRole("button", { name: "Recipient" }).click();
await page.waitForTimeout(500);
await page.screenshot({ path: "/tmp/shots/desktop-panel.png" });
await page.evaluate(() => (location.hash = `#/webhooks`));
await page.waitForTimeout(1200);
await page.screenshot({ path: "/tmp/shots/webhooks.png" });
const phone = await b.page(PHONE);
await phone.goto(t.baseUrl + `/#/chats/${chatId}`);
await phone.locator(".bubble").first().waitFor();
await phone.waitForTimeout(600);
await phone.screenshot({ path: "/tmp/shots/phone-thread.png" });
await phone.getByRole("button", { name: "Recipient" }).click();
await phone.waitForTimeout(400);
await phone.screenshot({ path: "/tmp/shots/phone-panel.png" });
await phone.goto(t.baseUrl + `/#/webhooks`);
await phone.waitForTimeout(1000);
await phone.screenshot({ path: "/tmp/shots/phone-webhooks.png" });
await b.close(); await rec.close(); await t.close();
