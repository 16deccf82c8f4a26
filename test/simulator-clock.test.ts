import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DIALECTS, type TestApp } from "./helpers/app.ts";
import { advance, listen, putProfile, startSandbox, type Listener } from "./helpers/sandbox.ts";
import { createChat } from "./helpers/v2.ts";

/** The virtual clock fires simulator actions and webhook retries due on the way, in time order. */
for (const dialect of DIALECTS) {
  describe(`simulator: virtual time interleaves the simulator and webhook retries (${dialect})`, () => {
    let t: TestApp;
    let hooks: Listener;
    before(async () => {
      t = await startSandbox(dialect, { WEBHOOK_RETRY_SCHEDULE: "5s,30s" });
      hooks = await listen(t, ["message.sent", "message.read", "reaction.received"]);
    });
    after(async () => {
      await hooks.close();
      await t.close();
    });

    it("delivers a retry at its due time between the actions before and after it", async () => {
      const recipient = "+15551230701";
      await putProfile(t, recipient, { read_after_ms: 7000, auto_reaction: { type: "like", delay_ms: 3000 } });
      hooks.receiver.queue({ status: 503 });
      const chat = await createChat(t, [recipient], "Is the shop open?");
      await advance(t, 0);
      const attempt = (i: number) => {
        const request = hooks.receiver.requests[i]!;
        return [JSON.parse(request.body).event_type, request.answeredWith];
      };
      assert.deepEqual([attempt(0)], [["message.sent", 503]]);

      const res = await advance(t, 10_000);
      assert.ok(res.body.data.fired >= 3, "the reaction, the retry and the read fired on the way");
      assert.deepEqual(
        hooks.receiver.requests.map((_, i) => attempt(i)),
        [
          ["message.sent", 503],
          ["message.sent", 200],
          ["reaction.received", 200],
          ["message.read", 200],
        ],
        "retry at 5 s; the reaction (3 s) waits behind its chat's earlier event; read at 7 s",
      );
      const sentAttempts = hooks.receiver.requests.filter((r) => JSON.parse(r.body).event_type === "message.sent");
      assert.equal(sentAttempts[0]!.body, sentAttempts[1]!.body, "a retry carries the same bytes");
      assert.equal(JSON.parse(sentAttempts[0]!.body).data.chat_id, String(chat.id));
    });
  });
}
