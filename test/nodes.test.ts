import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, startTestApp, type TestApp } from "./helpers/app.ts";
import { readFrames } from "./helpers/event-stream.ts";
import { createChat } from "./helpers/v2.ts";
import { buildWorker } from "../src/app.ts";
import { loadConfig } from "../src/config/config.ts";

/**
 * Two nodes of one Postgres database in one test process: what lives in a process's memory
 * either travels between them (the inbox's live activity) or refuses a second node (the
 * virtual clock). Real processes under load and kill -9: nodes-crash.test.ts.
 */

const postgres = DIALECTS.includes("postgres");

describe("several nodes on one Postgres database", { skip: !postgres && "TEST_DATABASE_URL not set" }, () => {
  let a: TestApp;
  let b: TestApp;
  before(async () => {
    a = await startTestApp("postgres");
    b = await startTestApp("postgres", { nodeOf: a });
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  it("the inbox stream on node B shows what was done through node A", async () => {
    await b.openlinq.listen();
    const controller = new AbortController();
    const response = await fetch(`${b.openlinq.baseUrl()}/openlinq/v1/stream?token=${b.token}`, { signal: controller.signal });
    assert.equal(response.status, 200);
    const nextFrame = readFrames(response);
    assert.match(await nextFrame(), /event: hello/);

    const chat = await createChat(a, ["+15550000071"], "Sent through node A");
    const activity = JSON.parse((await nextFrame()).replace(/^data: /, ""));
    assert.equal(activity.chat_id, chat.chat.id);
    assert.ok(["chat", "message"].includes(activity.kind));
    controller.abort();
  });

  it("a node with the virtual clock refuses to join a database that has other nodes", async () => {
    await assert.rejects(
      startTestApp("postgres", { nodeOf: a, config: { CLOCK: "virtual" } }),
      /OPENLINQ_CLOCK=virtual runs on a single node/,
    );
  });

  it("while a node with the virtual clock runs, no other node (serve or worker) starts on its database", async () => {
    const virtual = await startTestApp("postgres", { config: { CLOCK: "virtual" } });
    try {
      await assert.rejects(startTestApp("postgres", { nodeOf: virtual }), /OPENLINQ_CLOCK=virtual, which runs on a single node/);
      const workerConfig = loadConfig(
        {},
        {
          DATA_DIR: virtual.dataDir,
          DATABASE_URL: process.env.TEST_DATABASE_URL!,
          DATABASE_SCHEMA: virtual.schema,
          LOG_LEVEL: "silent",
        },
      );
      await assert.rejects(buildWorker(workerConfig), /OPENLINQ_CLOCK=virtual, which runs on a single node/);
    } finally {
      await virtual.close();
    }
  });
});
