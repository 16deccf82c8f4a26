import { buildApp } from "../src/app.ts";
import { loadConfig } from "../src/config/config.ts";
import { storeSpot } from "./store-spot.ts";
const TOKEN = "bench-token-0001", OUR = "+19998887777";
const AUTH = { "x-linq-integration-token": TOKEN, authorization: `Bearer ${TOKEN}` };
const pgMode = process.argv.includes("--postgres");
const spot = storeSpot(pgMode ? "postgres" : "sqlite", process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test", "split", { token: TOKEN, phoneNumber: OUR });
const app = await buildApp(loadConfig({}, { ...spot.config, LOG_LEVEL: "silent" }));
let carrierUs = 0;
const w = app.outbound as any; const orig = w.runNow.bind(w);
w.runNow = async (...a: any[]) => { const c = process.cpuUsage(); try { return await orig(...a); } finally { const d = process.cpuUsage(c); carrierUs += d.user + d.system; } };
const inject = async (url: string, payload: unknown) => { const r = await app.http.inject({ method: "POST", url, headers: AUTH, payload: payload as object }); if (r.statusCode >= 300) throw new Error(r.body); return r.json(); };
const chat = await inject("/api/partner/v2/chats", { send_from: OUR, chat: { phone_numbers: ["+15552009999"] }, message: { text: "hi" } });
const send = () => inject(`/api/partner/v2/chats/${chat.data.id}/chat_messages`, { text: "Benchmark message: how is the hot path doing today?" });
for (let i = 0; i < 100; i++) await send();
for (let round = 0; round < 3; round++) {
  carrierUs = 0; const N = 500; const c = process.cpuUsage();
  for (let i = 0; i < N; i++) await send();
  const d = process.cpuUsage(c);
  console.log(`round ${round}: total ${((d.user + d.system) / N / 1000).toFixed(3)} ms/send, runNow ${(carrierUs / N / 1000).toFixed(3)} ms/send`);
}
await app.close?.(); await spot.cleanup(); process.exit(0);
