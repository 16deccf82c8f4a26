import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { OutboundJob } from "../src/outbound/ports.ts";
import { DIALECTS, type TestApp } from "./helpers/app.ts";
import { SANDBOX, advance, putProfile, startSandbox } from "./helpers/sandbox.ts";
import { V2, createChat } from "./helpers/v2.ts";

/**
 * A queued step of the simulated network can run twice: the process is killed between the
 * step's effect and the job's removal, or a claim lapses while the step runs and another
 * worker takes it too. The repeat must change nothing. Here the repeat is the job itself,
 * taken from the queue before it ran and handed to its handler again, also concurrently.
 */
for (const dialect of DIALECTS) {
  describe(`simulator: a repeated step changes nothing (${dialect})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startSandbox(dialect);
    });
    after(async () => {
      await t.close();
    });

    const queued = async (kind: string): Promise<OutboundJob[]> => {
      const rows = await t.openlinq.storage.db.selectFrom("outbound_jobs").selectAll().where("kind", "=", kind).execute();
      return rows.map((row) => ({
        id: row.id,
        orgId: row.org_id,
        kind: row.kind,
        payload: JSON.parse(row.payload) as Record<string, unknown>,
        runAt: new Date(row.run_at),
        attempts: row.attempts,
        maxAttempts: row.max_attempts,
        claimedUntil: new Date(Date.now() + 60_000),
      }));
    };
    const repeat = (job: OutboundJob) => t.openlinq.simulator!.handlers.get(job.kind)!(job);
    const eventCount = async (type: string, chatId: number) => {
      const res = await t.request("GET", `${SANDBOX}/events?event_type=${type}&chat_id=${chatId}`);
      assert.equal(res.status, 200, res.raw);
      return res.body.pagination.total_count as number;
    };

    it("an auto-reaction run again, at once or after the recipient took it back, adds no second reaction or event", async () => {
      const recipient = "+15551239901";
      await putProfile(t, recipient, { auto_reaction: { type: "like", delay_ms: 3000 } });
      const chat = await createChat(t, [recipient], "React to this once");
      await advance(t, 0);
      const [job] = await queued("simulator.react");
      assert.ok(job, "the reaction is queued");

      await advance(t, 3000);
      assert.equal((await queued("simulator.react")).length, 0, "the reaction ran");
      assert.equal(await eventCount("reaction.received", chat.id), 1);

      // Killed before the job was removed, and retaken by two workers at once.
      await Promise.all([repeat(job!), repeat(job!)]);
      await repeat(job!);
      const messages = await t.request("GET", `${V2}/chats/${chat.id}/chat_messages`);
      const reactions = messages.body.data[0].reactions as unknown[];
      assert.equal(reactions.length, 1, JSON.stringify(reactions));
      assert.equal(await eventCount("reaction.received", chat.id), 1, "one reaction.received");

      // The recipient takes the tapback back; a late repeat must not put it back.
      const removal = await t.request("POST", `${SANDBOX}/simulate/reaction`, {
        body: { from: recipient, chat_message_id: messages.body.data[0].id, type: "like", operation: "remove" },
      });
      assert.equal(removal.status, 201, removal.raw);
      await repeat(job!);
      const after = await t.request("GET", `${V2}/chats/${chat.id}/chat_messages`);
      assert.equal(after.body.data[0].reactions.length, 0, "the tapback stays removed");
      assert.equal(await eventCount("reaction.received", chat.id), 2, "the add and the remove, nothing more");
    });
  });
}
