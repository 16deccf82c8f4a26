import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { Clock } from "../core/ports.ts";
import type { WebhookSender } from "./http-sender.ts";
import type { AttemptResult, ClaimedDelivery, DeliveryRepository, DeliveryTransition, OutboxWakeups } from "./ports.ts";
import { judgeAttempt, type RetryPolicy } from "./retry-schedule.ts";
import { deliveryHeaders } from "./signer.ts";

export interface DeliveryWorkerOptions {
  repository: DeliveryRepository;
  clock: Clock;
  send: WebhookSender;
  policy: RetryPolicy;
  /** How long a claim holds; must exceed the HTTP timeout so a live attempt is never retaken. */
  claimTtlMs: number;
  /**
   * How often to look for work other processes queued (and expired claims), in wall-clock
   * time: other processes live in real time, and ticking through a virtual clock's jumps
   * would cost a query per virtual interval while finding nothing the in-process signal
   * and the Clock timers have not already delivered.
   */
  pollIntervalMs: number;
  /** Attempts in flight at once. Only this many deliveries are claimed, so claims never wait in a queue. */
  concurrency: number;
  /** Days finished events are kept; 0 keeps them forever. */
  retentionDays: number;
  logger: Pick<Logger, "debug" | "info" | "warn" | "error">;
  /** Cross-process wake-ups (Postgres LISTEN); polling alone otherwise. */
  wakeups?: OutboxWakeups | undefined;
  /** Told after attempts are recorded (the inbox refreshes its delivery log live). */
  onRecorded?: ((results: readonly AttemptResult[]) => void) | undefined;
  id?: string;
}

export interface DeliveryWorker {
  /** Written into claims, so a claim names its holder. */
  readonly id: string;
  /** Starts polling, listening and the retention sweep, and processes what is already due. */
  start(): Promise<void>;
  /** Something may be due now (called after commits that wrote outbox rows). */
  wake(): void;
  /**
   * Processes everything due at `clock.now()` — including retries that fall due while it
   * runs — and resolves once nothing due is left or in flight. A virtual or fake clock
   * calls it after advancing time; it returns the number of attempts made meanwhile.
   */
  runDue(): Promise<{ attempts: number }>;
  /** Stops claiming, abandons attempts in flight and hands their claims back. */
  close(): Promise<void>;
}

const PURGE_INTERVAL_MS = 60 * 60 * 1000;
/** Attempts written per transaction at most. */
const RECORD_BATCH = 200;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The outbox worker: claims due deliveries, signs and POSTs them, records every attempt
 * and reschedules from the retry policy. Every wait of the schedule (retries, the
 * retention sweep) goes through the Clock, so a fake or virtual clock fires them
 * deterministically; only the poll for other processes' work runs on wall-clock time.
 * Several workers (in this process or others) share the queue through claims.
 */
export function createDeliveryWorker(options: DeliveryWorkerOptions): DeliveryWorker {
  const { repository, clock, send, policy, logger } = options;
  const id = options.id ?? `${hostname()}/${process.pid}/${randomBytes(4).toString("hex")}`;
  const concurrency = Math.max(1, options.concurrency);

  let closed = false;
  let pumpPromise: Promise<void> | undefined;
  let pumpAgain = false;
  /** Set by timers and polls: look up the next due time once the queue is drained. */
  let refreshDue = false;
  /**
   * Claimed deliveries until their attempt is recorded: `concurrency` bounds them. Freeing a
   * slot only once the record is written (rather than when the response arrives) makes
   * claims and records come in larger batches, which measured faster on both stores.
   */
  const inFlight = new Map<number, { promise: Promise<void>; controller: AbortController }>();
  let claimedTotal = 0;
  let attemptsTotal = 0;
  let wakeTimer: { at: number; cancel: () => void } | undefined;
  let cancelPoll: (() => void) | undefined;
  let cancelPurge: (() => void) | undefined;
  /** Finished attempts waiting for the transaction that records them. */
  const unrecorded: { result: AttemptResult; done: (error?: unknown) => void }[] = [];
  let recording: Promise<void> | undefined;
  /**
   * Under load, claiming one delivery per freed slot costs a claim per attempt; waiting for
   * a quarter of the slots batches claims. With nothing in flight any single delivery goes.
   */
  const claimBatch = Math.max(1, Math.floor(concurrency / 4));

  function wake(): void {
    if (closed) return;
    if (pumpPromise) {
      pumpAgain = true;
      return;
    }
    pumpPromise = pump().finally(() => {
      pumpPromise = undefined;
      if (pumpAgain) wake();
    });
  }

  async function pump(): Promise<void> {
    try {
      do {
        pumpAgain = false;
        const free = concurrency - inFlight.size;
        if (free < (inFlight.size === 0 ? 1 : claimBatch)) return; // each finished attempt wakes us again
        const now = clock.now();
        const batch = await repository.claimDue(id, now, new Date(now.getTime() + options.claimTtlMs), free);
        claimedTotal += batch.length;
        for (const delivery of batch) launch(delivery);
        if (batch.length === free) pumpAgain = true;
        else if (refreshDue) {
          refreshDue = false;
          const due = await repository.nextDueAt();
          if (due && due.getTime() > clock.now().getTime()) wakeAt(due);
        }
      } while (pumpAgain && !closed);
    } catch (error) {
      if (!closed) logger.error({ err: error }, "webhook delivery: claiming failed; trying again at the next poll");
    }
  }

  function wakeAt(due: Date): void {
    const at = due.getTime();
    if (closed || (wakeTimer && wakeTimer.at <= at)) return;
    wakeTimer?.cancel();
    const cancel = clock.setTimer(Math.max(0, at - clock.now().getTime()), () => {
      wakeTimer = undefined;
      refreshDue = true;
      wake();
    });
    wakeTimer = { at, cancel };
  }

  function launch(delivery: ClaimedDelivery): void {
    const controller = new AbortController();
    const promise = attempt(delivery, controller.signal)
      .catch((error) => {
        // The claim stays until it expires; then this or another worker retries the delivery.
        logger.error({ err: error, deliveryId: delivery.id }, "webhook delivery: recording an attempt failed");
      })
      .finally(() => {
        inFlight.delete(delivery.id);
        wake();
      });
    inFlight.set(delivery.id, { promise, controller });
  }

  async function attempt(delivery: ClaimedDelivery, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    if (!delivery.subscription.active) {
      await repository.failWithoutAttempt(id, delivery.id, "subscription is inactive", clock.now());
      return;
    }
    const attemptedAt = clock.now();
    const headers = deliveryHeaders({
      eventId: delivery.eventId,
      eventType: delivery.eventType,
      subscriptionId: delivery.subscription.id,
      secret: delivery.subscription.secret,
      body: delivery.payload,
      at: attemptedAt,
    });
    const result = await send({ url: delivery.subscription.url, headers, body: delivery.payload, signal });
    // Abandoned by shutdown: nothing to record, close() hands the claim back.
    if (result.failure === "aborted") return;

    const now = clock.now();
    const attemptsMade = delivery.attemptCount + 1;
    const verdict = judgeAttempt(
      policy,
      attemptsMade,
      { status: result.status, failure: result.failure, retryAfter: result.headers?.["retry-after"] ?? null },
      now,
    );
    let next: DeliveryTransition;
    if (verdict.kind === "succeeded") next = { status: "succeeded" };
    else if (verdict.kind === "retry") next = { status: "pending", nextAttemptAt: new Date(now.getTime() + verdict.delayMs) };
    else next = { status: "failed" };

    const lastError = verdict.kind === "failed" ? [result.error, verdict.reason].filter(Boolean).join("; ") : result.error;
    await record({
      delivery,
      attempt: {
        url: delivery.subscription.url,
        requestHeaders: headers,
        requestBody: delivery.payload,
        responseStatus: result.status,
        responseHeaders: result.headers,
        responseBody: result.body,
        durationMs: result.durationMs,
        error: result.error,
        attemptedAt,
      },
      next,
      deactivateSubscription: verdict.kind === "failed" && verdict.deactivate,
      lastError,
    });
    attemptsTotal += 1;
    if (next.status === "pending") wakeAt(next.nextAttemptAt);
    if (verdict.kind === "failed" && verdict.deactivate) {
      logger.warn({ subscriptionId: delivery.subscription.id }, "webhook subscription deactivated: receiver answered 410 Gone");
    }
  }

  /**
   * Group commit: attempts finishing in the same turn of the event loop, or while a batch
   * is being written, are recorded together, so the database sees one transaction per
   * batch. The wait is a yield to the event loop (setImmediate), never a timer.
   */
  function record(result: AttemptResult): Promise<void> {
    return new Promise((resolve, reject) => {
      unrecorded.push({ result, done: (error) => (error === undefined ? resolve() : reject(error)) });
      recording ??= new Promise<void>((resolve) => setImmediate(resolve)).then(writeRecords);
    });
  }

  async function writeRecords(): Promise<void> {
    try {
      while (unrecorded.length > 0) {
        const batch = unrecorded.splice(0, RECORD_BATCH);
        try {
          const lost = await repository.recordAttempts(id, batch.map((entry) => entry.result));
          if (lost.length > 0) logger.warn({ deliveryIds: lost }, "webhook delivery: claims expired before their attempts were recorded");
          batch.forEach((entry) => entry.done());
          options.onRecorded?.(batch.map((entry) => entry.result));
        } catch (error) {
          batch.forEach((entry) => entry.done(error));
        }
      }
    } finally {
      recording = undefined;
    }
  }

  let purging: Promise<void> | undefined;
  function purge(): void {
    if (options.retentionDays <= 0 || closed || purging) return;
    purging = sweep().finally(() => {
      purging = undefined;
    });
  }

  async function sweep(): Promise<void> {
    try {
      const cutoff = new Date(clock.now().getTime() - options.retentionDays * DAY_MS);
      const removed = await repository.purgeEventsBefore(cutoff);
      if (removed > 0) logger.info({ removed, cutoff }, "webhook events past retention removed");
    } catch (error) {
      if (!closed) logger.error({ err: error }, "webhook delivery: retention sweep failed");
    }
  }

  function armPoll(): void {
    const poll = setInterval(() => {
      if (closed) return;
      refreshDue = true;
      wake();
      if (options.wakeups) {
        options.wakeups.listen(wake).catch((error) => logger.warn({ err: error }, "webhook delivery: listen failed"));
      }
    }, options.pollIntervalMs);
    poll.unref();
    cancelPoll = () => clearInterval(poll);
  }

  function armPurge(): void {
    cancelPurge = clock.setTimer(PURGE_INTERVAL_MS, () => {
      if (closed) return;
      purge();
      armPurge();
    });
  }

  async function settle(): Promise<void> {
    while (pumpPromise || inFlight.size > 0 || purging) {
      if (pumpPromise) await pumpPromise;
      if (purging) await purging;
      await Promise.allSettled([...inFlight.values()].map((f) => f.promise));
    }
  }

  return {
    id,
    async start() {
      if (closed) throw new Error("delivery worker is closed");
      if (options.wakeups) {
        await options.wakeups.listen(wake).catch((error) => logger.warn({ err: error }, "webhook delivery: listen failed; polling only"));
      }
      armPoll();
      armPurge();
      purge();
      refreshDue = true;
      wake();
    },
    wake,
    async runDue() {
      const attemptsBefore = attemptsTotal;
      for (;;) {
        const claimedBefore = claimedTotal;
        wake();
        await settle();
        if (closed || claimedTotal === claimedBefore) break;
      }
      return { attempts: attemptsTotal - attemptsBefore };
    },
    async close() {
      if (closed) return;
      closed = true;
      wakeTimer?.cancel();
      cancelPoll?.();
      cancelPurge?.();
      while (pumpPromise || inFlight.size > 0) {
        for (const flight of inFlight.values()) flight.controller.abort();
        await settle();
      }
      try {
        const released = await repository.releaseClaims(id, clock.now());
        if (released > 0) logger.info({ released }, "webhook deliveries handed back for another worker");
      } catch (error) {
        logger.error({ err: error }, "webhook delivery: handing back claims failed; they expire on their own");
      }
      await options.wakeups?.close();
    },
  };
}
