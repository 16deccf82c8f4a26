import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DomainError } from "../src/core/errors.ts";
import type { NewOutboundJob } from "../src/core/ports.ts";
import { createLocalQueue } from "../src/outbound/local-queue.ts";
import type { OutboundJob } from "../src/outbound/ports.ts";
import { createOutboundWorker, type JobHandler } from "../src/outbound/worker.ts";
import { dropPostgresSchema, openStorage, type StorageHandle } from "../src/storage/database.ts";
import { addJobs } from "../src/storage/outbound/add-jobs.ts";
import { completeJobs } from "../src/storage/outbound/complete-jobs.ts";
import { failJobs } from "../src/storage/outbound/fail-jobs.ts";
import { getDueJobs } from "../src/storage/outbound/get-due-jobs.ts";
import { nextDueAt } from "../src/storage/outbound/next-due-at.ts";
import { outboundQueue } from "../src/storage/outbound/outbound-queue.ts";
import { releaseClaims, resetExpiredClaims } from "../src/storage/outbound/reset-expired-claims.ts";
import { DIALECTS } from "./helpers/app.ts";
import { createManualClock, type ManualClock } from "./helpers/manual-clock.ts";

/** Each operation of the outbound queue, the local queue and the worker, on a real database and a manual clock. */

const silent = { debug() {}, warn() {}, error() {} };
const T0 = new Date("2026-01-15T10:00:00.000Z");
const at = (ms: number) => new Date(T0.getTime() + ms);
const job = (runAtMs: number, name: string, extra: Partial<NewOutboundJob> = {}): NewOutboundJob => ({
  orgId: 1,
  kind: "test.job",
  payload: { name },
  runAt: at(runAtMs),
  ...extra,
});
const names = (jobs: OutboundJob[]) => jobs.map((j) => j.payload.name);

for (const dialect of DIALECTS) {
  describe(`outbound queue operations (${dialect})`, () => {
    let storage: StorageHandle;
    let dataDir: string;
    const schema = `outq_${randomBytes(5).toString("hex")}`;
    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), "openlinq-outq-"));
      storage =
        dialect === "postgres"
          ? openStorage({ kind: "postgres", url: process.env.TEST_DATABASE_URL!, schema })
          : openStorage({ kind: "sqlite", file: join(dataDir, "q.db") });
      await storage.migrate();
    });
    beforeEach(async () => {
      await storage.db.deleteFrom("outbound_jobs").execute();
    });
    after(async () => {
      await storage.destroy();
      rmSync(dataDir, { recursive: true, force: true });
      if (dialect === "postgres") await dropPostgresSchema(process.env.TEST_DATABASE_URL!, schema);
    });
    const claim = (worker: string, nowMs: number, limit = 10, ttlMs = 1000) =>
      getDueJobs(storage.db, storage.dialect, worker, { now: at(nowMs), claimUntil: at(nowMs + ttlMs), limit });

    it("getDueJobs claims only due jobs, oldest due first then in the order added, and never the same job twice", async () => {
      await addJobs(storage.db, [job(500, "later"), job(0, "first"), job(0, "second"), job(100, "third")], T0);
      assert.deepEqual(names(await claim("a", 100, 2)), ["first", "second"]);
      assert.deepEqual(names(await claim("b", 100)), ["third"], "b gets what a did not hold");
      assert.deepEqual(await claim("b", 499), [], "not due yet");
      const [later] = await claim("b", 500);
      assert.equal(later!.payload.name, "later");
      assert.equal(later!.claimedUntil.getTime(), at(1500).getTime());
    });

    it("completeJobs deletes only jobs the caller still holds", async () => {
      const [id] = await addJobs(storage.db, [job(0, "x")], T0);
      await claim("a", 0);
      assert.equal(await completeJobs(storage.db, "b", [id!]), 0, "b never held it");
      assert.equal(await completeJobs(storage.db, "a", [id!]), 1);
      assert.equal(await nextDueAt(storage.db), undefined, "the queue is empty");
    });

    it("failJobs counts the attempt and makes the job due again at its new time; at max_attempts it is kept and never claimed", async () => {
      const [id] = await addJobs(storage.db, [job(0, "flaky", { maxAttempts: 2 })], T0);
      await claim("a", 0);
      assert.equal(await failJobs(storage.db, "b", [{ id: id!, error: "not mine", runAt: at(10) }]), 0);
      assert.equal(await failJobs(storage.db, "a", [{ id: id!, error: "carrier down", runAt: at(2000) }]), 1);
      assert.equal((await nextDueAt(storage.db))!.getTime(), at(2000).getTime());
      assert.deepEqual(await claim("a", 1999), []);
      const [again] = await claim("a", 2000);
      assert.equal(again!.attempts, 1);
      await failJobs(storage.db, "a", [{ id: id!, error: "still down", runAt: at(3000) }]);
      assert.deepEqual(await claim("a", 10_000), [], "given up after two attempts");
      assert.equal(await nextDueAt(storage.db), undefined, "a job given up wakes nobody");
      const row = await storage.db.selectFrom("outbound_jobs").selectAll().executeTakeFirstOrThrow();
      assert.equal(row.last_error, "still down");
      assert.equal(row.attempts, 2);
    });

    it("resetExpiredClaims frees a crashed worker's claims once they lapse, not before", async () => {
      await addJobs(storage.db, [job(0, "orphan")], T0);
      await claim("dead", 0, 10, 1000);
      assert.equal((await nextDueAt(storage.db))!.getTime(), at(1000).getTime(), "the lapse is the next moment to look");
      assert.equal(await resetExpiredClaims(storage.db, at(999)), 0);
      assert.deepEqual(await claim("alive", 999), []);
      assert.equal(await resetExpiredClaims(storage.db, at(1000)), 1);
      assert.deepEqual(names(await claim("alive", 1000)), ["orphan"]);
    });

    it("releaseClaims hands back the given jobs, or all of a worker's", async () => {
      const ids = await addJobs(storage.db, [job(0, "a1"), job(0, "a2"), job(0, "a3")], T0);
      await claim("a", 0);
      assert.equal(await releaseClaims(storage.db, "a", [ids[0]!]), 1);
      assert.deepEqual(names(await claim("b", 0)), ["a1"]);
      assert.equal(await releaseClaims(storage.db, "a"), 2);
      assert.deepEqual(names(await claim("b", 0)), ["a2", "a3"]);
    });

    describe("local queue", () => {
      it("claims a batch ahead in one go and hands the jobs out in due order", async () => {
        const clock = createManualClock(T0);
        await addJobs(storage.db, [job(0, "j1"), job(0, "j2"), job(0, "j3")], T0);
        const local = createLocalQueue({ queue: outboundQueue(storage.db, storage.dialect), workerId: "w", clock, batchSize: 2, claimTtlMs: 1000, minClaimLeftMs: 500 });
        assert.equal((await local.next())!.payload.name, "j1");
        assert.equal(local.size(), 1, "j2 waits, claimed with j1");
        const held = await storage.db.selectFrom("outbound_jobs").select("claimed_by").where("claimed_by", "=", "w").execute();
        assert.equal(held.length, 2);
        assert.equal((await local.next())!.payload.name, "j2");
        assert.equal((await local.next())!.payload.name, "j3");
        assert.equal(await local.next(), undefined);
      });

      it("drops a waiting job whose claim ran low (another worker may retake it) and hands back the rest on release", async () => {
        const clock = createManualClock(T0);
        await addJobs(storage.db, [job(0, "j1"), job(0, "j2"), job(0, "j3")], T0);
        const queue = outboundQueue(storage.db, storage.dialect);
        const local = createLocalQueue({ queue, workerId: "w", clock, batchSize: 3, claimTtlMs: 1000, minClaimLeftMs: 500 });
        assert.equal((await local.next())!.payload.name, "j1");
        clock.advance(600);
        // j2 and j3 have 400 ms of claim left: not enough; both are dropped, and nothing else is due for w.
        assert.equal(await local.next(), undefined);
        assert.equal(await queue.resetExpiredClaims(at(1000)), 3, "their claims lapse and free them");
        const again = createLocalQueue({ queue, workerId: "w2", clock, batchSize: 1, claimTtlMs: 1000, minClaimLeftMs: 500 });
        clock.advance(400);
        assert.equal((await again.next())!.payload.name, "j1");
        await addJobs(storage.db, [job(0, "j4")], T0);
        assert.equal(again.size(), 0);
        await again.release();
        const held = await storage.db.selectFrom("outbound_jobs").select("id").where("claimed_by", "=", "w2").execute();
        assert.equal(held.length, 1, "j1 (taken) stays claimed; nothing was waiting");
      });
    });

    describe("worker", () => {
      const build = (clock: ManualClock, handlers: Record<string, JobHandler>, id = "worker-a") =>
        createOutboundWorker({
          queue: outboundQueue(storage.db, storage.dialect),
          clock,
          handlers: new Map(Object.entries(handlers)),
          claimTtlMs: 10_000,
          pollIntervalMs: 3_600_000,
          logger: silent,
          isSettled: (error) => error instanceof DomainError,
          backoffMs: (attempt) => attempt * 1000,
          id,
        });

      it("runs jobs when they fall due, in due order, and removes them", async () => {
        const clock = createManualClock(T0);
        const ran: string[] = [];
        const worker = build(clock, { "test.job": async (j) => void ran.push(`${j.payload.name}@${clock.now().getTime() - T0.getTime()}`) });
        await addJobs(storage.db, [job(2000, "b"), job(0, "a"), job(2000, "c")], T0);
        await worker.runDue();
        assert.deepEqual(ran, ["a@0"]);
        clock.advance(2000);
        await worker.runDue();
        assert.deepEqual(ran, ["a@0", "b@2000", "c@2000"]);
        assert.equal(await nextDueAt(storage.db), undefined);
        await worker.close();
      });

      it("reschedules a failing job by its backoff, completes one whose subject vanished, and runs a job a handler adds", async () => {
        const clock = createManualClock(T0);
        let failures = 0;
        const ran: string[] = [];
        const worker = build(clock, {
          flaky: async () => {
            if (failures++ < 2) throw new Error("carrier unavailable");
            ran.push("flaky");
            await addJobs(storage.db, [job(0, "follow-up", { runAt: clock.now() })], clock.now());
          },
          gone: async () => {
            throw new DomainError("message_not_found", "Message not found");
          },
          "test.job": async (j) => void ran.push(String(j.payload.name)),
        });
        await addJobs(storage.db, [job(0, "x", { kind: "flaky" }), job(0, "y", { kind: "gone" })], T0);
        await worker.runDue();
        assert.deepEqual(ran, []);
        const left = await storage.db.selectFrom("outbound_jobs").select(["kind", "attempts", "last_error"]).execute();
        assert.deepEqual(left, [{ kind: "flaky", attempts: 1, last_error: "carrier unavailable" }], "the vanished one is done");
        clock.advance(1000);
        await worker.runDue();
        assert.deepEqual(ran, [], "second try fails too; the next waits 2 s");
        clock.advance(1999);
        await worker.runDue();
        assert.deepEqual(ran, []);
        clock.advance(1);
        await worker.runDue();
        assert.deepEqual(ran, ["flaky", "follow-up"]);
        await worker.close();
      });

      it("a worker that died holding jobs loses them to another once its claims lapse", async () => {
        const clock = createManualClock(T0);
        await addJobs(storage.db, [job(0, "j1"), job(0, "j2")], T0);
        // The dead worker claimed both (fetched ahead) and never finished: a kill -9 mid-job.
        await claim("dead", 0, 10, 10_000);
        const ran: string[] = [];
        const worker = build(clock, { "test.job": async (j) => void ran.push(String(j.payload.name)) }, "survivor");
        await worker.start();
        assert.deepEqual(ran, [], "claims still hold");
        clock.advance(10_000);
        await worker.runDue();
        assert.deepEqual(ran, ["j1", "j2"]);
        await worker.close();
      });

      it("runNow performs only the given due jobs and leaves the rest to the schedule", async () => {
        const clock = createManualClock(T0);
        const ran: string[] = [];
        const worker = build(clock, { "test.job": async (j) => void ran.push(String(j.payload.name)) });
        const [now, later, other] = await addJobs(storage.db, [job(0, "now"), job(5000, "later"), job(0, "other")], T0);
        await worker.runNow([now!, later!]);
        assert.deepEqual(ran, ["now"]);
        await claim("someone-else", 0);
        await worker.runNow([other!]);
        assert.deepEqual(ran, ["now"], "a job another worker holds is not run twice");
        await worker.close();
      });
    });
  });
}
