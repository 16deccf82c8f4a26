import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInstantTransport } from "../src/transport/instant.transport.ts";
import { DIALECTS, OUR_NUMBER, startTestApp, type TestApp } from "./helpers/app.ts";
import { killHard, stopGracefully, type Spawned } from "./helpers/processes.ts";
import { startReceiver, type ReceivedRequest, type Receiver } from "./helpers/receiver.ts";
import { startTcpProxy, type TcpProxy } from "./helpers/tcp-proxy.ts";

/**
 * `openlinq listen` loses nothing: real listener processes forward a stream of events to a
 * local receiver while the test kills them (SIGKILL) and cuts their connection to the server
 * (a TCP proxy drops every socket) at points spread over the stream. In the end the receiver
 * has every event produced, nothing else, each chat's in order; an event arrives twice only
 * when a kill fell between its local answer and its acknowledgement (at most once per kill).
 */

const BIN = join(import.meta.dirname, "..", "bin", "openlinq.js");
const CHATS = 8;

function spawnListener(api: string, token: string, target: string): Promise<Spawned> {
  const child = spawn(process.execPath, [BIN, "listen", "--api", api, "--forward-to", target, "--name", "under-fire"], {
    env: { ...process.env, OPENLINQ_TOKEN: token },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    const onData = () => {
      if (!output.includes("listening as")) return;
      child.stdout!.off("data", onData);
      child.off("exit", onExit);
      resolve({ child, baseUrl: undefined, output: () => output });
    };
    const onExit = (code: number | null) => reject(new Error(`openlinq listen exited with ${code}:\n${output}`));
    child.stdout!.on("data", onData);
    child.on("exit", onExit);
  });
}

for (const dialect of DIALECTS) {
  // Fewer on Postgres, whose commits cost more: the file stays within a minute.
  const events = dialect === "sqlite" ? 2_000 : 200;
  const kills = dialect === "sqlite" ? 3 : 2;
  const cuts = dialect === "sqlite" ? 5 : 3;

  describe(`openlinq listen under kills and cut connections (${dialect})`, () => {
    let t: TestApp;
    let receiver: Receiver;
    let proxy: TcpProxy;
    let listener: Spawned | undefined;
    before(async () => {
      t = await startTestApp(dialect, { overrides: { transport: createInstantTransport } });
      await t.openlinq.listen();
      const api = new URL(t.openlinq.baseUrl());
      proxy = await startTcpProxy({ host: api.hostname, port: Number(api.port) });
      receiver = await startReceiver();
    });
    after(async () => {
      if (listener) await killHard(listener);
      await proxy.close();
      await receiver.close();
      await t.close();
    });

    it(`delivers all ${events} events, each chat's in order, through ${kills} kills and ${cuts} cut connections`, async () => {
      // Created before the first event, so the stream covers every one produced below.
      assert.equal((await t.request("PUT", "/openlinq/v1/listeners/under-fire")).status, 200);
      const target = `${receiver.url}/webhooks`;
      listener = await spawnListener(proxy.url, t.token, target);

      const produced = new Map<string, number>();
      const perChat: string[][] = Array.from({ length: CHATS }, () => []);
      const produce = async (chat: number) => {
        for (let i = chat; i < events; i += CHATS) {
          const res = await t.request("POST", "/openlinq/v1/simulate/inbound_message", {
            body: { from: `+1617555${String(1000 + chat)}`, to: OUR_NUMBER, text: `message ${i}` },
          });
          assert.equal(res.status, 201, res.raw);
          for (const { event_id } of res.body.data.events as { event_id: string }[]) {
            produced.set(event_id, chat);
            perChat[chat]!.push(event_id);
          }
        }
      };
      const disrupt = async () => {
        // Interleaved (kill, cut, kill, cut, …) and spread evenly over the stream.
        const order: ("kill" | "cut")[] = [];
        for (let k = kills, c = cuts; k + c > 0; ) {
          if (k > 0 && (order.at(-1) !== "kill" || c === 0)) (order.push("kill"), k--);
          else (order.push("cut"), c--);
        }
        let cut = 0;
        for (const [index, step] of order.entries()) {
          const threshold = Math.floor(((index + 1) * events) / (order.length + 1));
          await receiver.waitFor((requests) => requests.length >= threshold, 120_000);
          if (step === "kill") {
            await killHard(listener!);
            listener = await spawnListener(proxy.url, t.token, target);
          } else cut += proxy.cutAll();
        }
        return cut;
      };
      const [cutConnections] = await Promise.all([disrupt(), ...Array.from({ length: CHATS }, (_, chat) => produce(chat))]);
      assert.ok(cutConnections > 0, "the cuts dropped live connections");

      // Checked on every request the receiver gets: incremental, not a scan of everything each time.
      const seen = new Set<string>();
      let looked = 0;
      const everyProducedArrived = (requests: ReceivedRequest[]) => {
        for (; looked < requests.length; looked++) seen.add(String(requests[looked]!.headers["webhook-id"]));
        return seen.size >= produced.size && [...produced.keys()].every((id) => seen.has(id));
      };
      await receiver.waitFor(everyProducedArrived, 120_000);
      assert.equal(await stopGracefully(listener!), 0);
      listener = undefined;

      const received = receiver.requests.map((request) => String(request.headers["webhook-id"]));
      assert.deepEqual(new Set(received), new Set(produced.keys()), "exactly the events produced");
      const firstSeen = [...new Set(received)];
      for (let chat = 0; chat < CHATS; chat++) {
        assert.deepEqual(
          firstSeen.filter((id) => produced.get(id) === chat),
          perChat[chat],
          `chat ${chat}'s events in the order they happened`,
        );
      }
      const repeats = received.length - firstSeen.length;
      assert.ok(repeats <= kills, `${repeats} repeated deliveries for ${kills} kills`);
    });
  });
}
