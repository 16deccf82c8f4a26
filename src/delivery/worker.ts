import { randomBytes } from "node:crypto";
import { setMaxListeners } from "node:events";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { Clock } from "../core/ports.ts";
import type { WebhookSender } from "./http-sender.ts";
import type { AttemptResult, ClaimedDelivery, DeliveryRepository, DeliveryTransition, OutboxWakeups } from "./ports.ts";
import { judgeAttempt, type RetryPolicy } from "./retry-schedule.ts";
import { deliveryHeaders } from "./signer.ts";
import type { Metrics } from "../observability/metrics.ts";

export interface DeliveryWorkerOptions {
  repository: DeliveryRepository;
  clock: Clock;
  send: WebhookSender;
  policy: RetryPolicy;
  /** The schedule of V3 subscriptions' deliveries (jitter and randomness as `policy`); `policy.schedule` when absent. */
  v3Schedule?: readonly number[] | undefined;
  /** How long a claim holds; must exceed the HTTP timeout so a live attempt is never retaken. */
  claimTtlMs: number;
  /** The HTTP timeout: a claimed delivery starts its attempt only while more than this is left of its claim. */
  attemptTimeoutMs: number;
  /**
   * How often to look for work other processes queued (and expired claims), in wall-clock
   * time: other processes live in real time, and ticking through a virtual clock's jumps
   * would cost a query per virtual interval while finding nothing the in-process signal
   * and the Clock timers have not already delivered.
   */
  pollIntervalMs: number;
  /** Attempts in flight at once; one to seven times as many claimed deliveries wait for a slot. */
  concurrency: number;
  /** Days finished events are kept; 0 keeps them forever. */
  retentionDays: number;
  logger: Pick<Logger, "debug" | "info" | "warn" | "error">;
  /** Cross-process wake-ups (Postgres LISTEN); polling alone otherwise. */
  wakeups?: OutboxWakeups | undefined;
  /** Told after attempts are recorded (the inbox refreshes its delivery log live). */
  onRecorded?: ((results: readonly AttemptResult[]) => void) | undefined;
  /** Counts and latencies for GET /metrics. */
  metrics?: Pick<Metrics, "countAttempt" | "observeClaimLag"> | undefined;
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
  /** True from start() until close() begins. */
  running(): boolean;
  /**
   * Stops claiming and starting attempts, lets attempts in flight finish for up to `graceMs`
   * (0, the default, abandons them at once), records the finished ones and hands every
   * other claim back. An abandoned attempt may have reached its receiver: it is retried, so
   * the receiver may see it twice. Attempts end within the HTTP timeout, so a grace at
   * least that long loses and repeats nothing.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

const PURGE_INTERVAL_MS = 60 * 60 * 1000;
/** Attempts written per transaction at most. */
const RECORD_BATCH = 200;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A claimed delivery waiting for a free slot. */
interface ReadyDelivery {
  delivery: ClaimedDelivery;
  claimedUntil: number;
}

/**
 * The outbox worker: claims due deliveries, signs and POSTs them, records every attempt
 * and reschedules from the retry policy. Every wait of the schedule (retries, the
 * retention sweep) goes through the Clock, so a fake or virtual clock fires them
 * deterministically; only the poll for other processes' work runs on wall-clock time.
 * Several workers (in this process or others) share the queue through claims.
 *
 * The database is reached in turns, one at a time: each turn records the attempts that
 * finished since the last one and claims more, in one transaction. Attempts finishing
 * while a turn runs wait for the next, so under load every turn carries a batch (group
 * commit) without any timer. Up to `concurrency` attempts are in flight while claimed
 * deliveries wait for a slot, so a finished attempt is followed by the next one at once
 * rather than after a round trip to the database. A crash repeats only attempts sent and
 * not yet recorded: at most 4 × `concurrency`.
 *
 * Order per chat comes from the claim, not from here: the repository hands out only the
 * oldest pending delivery of each (subscription, chat), and a turn records finished attempts
 * before it claims, so the next event of a chat is claimable in the very turn that records
 * its predecessor's success. Whatever the slots and the waiting queue hold therefore never
 * contains two deliveries of one chat for one subscription.
 */
export function createDeliveryWorker(options: DeliveryWorkerOptions): DeliveryWorker {
  const { repository, clock, send, policy, logger } = options;
  const id = options.id ?? `${hostname()}/${process.pid}/${randomBytes(4).toString("hex")}`;
  const concurrency = Math.max(1, options.concurrency);
  const v3Policy: RetryPolicy = { ...policy, schedule: options.v3Schedule ?? policy.schedule };

  let closed = false;
  let turnPromise: Promise<void> | undefined;
  let turnAgain = false;
  /** Attempts that finished while the running turn ran, and while the last one did. */
  let finishedDuringTurn = 0;
  let finishedDuringLastTurn = 0;
  /** Set by timers and polls: look up the next due time once the queue is drained. */
  let refreshDue = false;
  /** Claimed, waiting for a slot; oldest due first. */
  const ready: ReadyDelivery[] = [];
  /** HTTP attempts in flight; at most `concurrency`. */
  const inFlight = new Map<number, Promise<void>>();
  /** Aborted by close(): abandons every attempt in flight at once. */
  const shutdown = new AbortController();
  // Every attempt in flight listens to it; more than Node's default of 10 is expected.
  setMaxListeners(Infinity, shutdown.signal);
  /** Finished attempts waiting for the turn that records them. */
  const finished: AttemptResult[] = [];
  /** Finished attempts the running turn is writing. */
  let recording = 0;
  /** Attempts sent and not yet recorded: what a crash now would repeat. */
  const unrecorded = () => inFlight.size + finished.length + recording;
  let claimedTotal = 0;
  let attemptsTotal = 0;
  let wakeTimer: { at: number; cancel: () => void } | undefined;
  let cancelPoll: (() => void) | undefined;
  let cancelPurge: (() => void) | undefined;

  function wake(): void {
    if (turnPromise) {
      turnAgain = true;
      return;
    }
    // A yield first: attempts finishing in this turn of the event loop join the batch. SQLite
    // answers synchronously, so without it every finished attempt would be a transaction.
    turnPromise = new Promise<void>((resolve) => setImmediate(resolve)).then(turns).finally(() => {
      turnPromise = undefined;
      if (turnAgain) wake();
    });
  }

  /**
   * How many to claim now. Beyond the `concurrency` slots, enough claimed deliveries wait to
   * keep the slots busy through a turn of the database: twice as many as finished during the
   * last turn, at least one round (`concurrency`) and at most seven. Fast receivers on a
   * busy database thus get deep claims (several round trips on Postgres while thousands of
   * attempts a second finish); slow receivers get shallow ones, leaving the rest of the
   * queue to other workers. Claims wait until a round's worth of room is free, so they come
   * in batches.
   */
  function claimRoom(): number {
    if (closed) return 0;
    const waiting = Math.min(7 * concurrency, Math.max(concurrency, 2 * finishedDuringLastTurn));
    const room = concurrency + waiting - ready.length - inFlight.size;
    return room >= concurrency ? room : 0;
  }

  /**
   * Whether finished attempts should be written now rather than with the next claim. While
   * plenty is claimed they wait for a round's worth (fewer, larger transactions); when the
   * worker runs dry or closes they are written at once, so a quiet worker records every
   * attempt as it finishes.
   */
  function recordNow(): boolean {
    return finished.length > 0 && (closed || finished.length >= concurrency || inFlight.size === 0);
  }

  async function turns(): Promise<void> {
    do {
      turnAgain = false;
      finishedDuringLastTurn = finishedDuringTurn;
      finishedDuringTurn = 0;
      const room = claimRoom();
      if (room === 0 && !recordNow()) return;
      const results = finished.splice(0, RECORD_BATCH);
      recording = results.length;
      const now = clock.now();
      const claimedUntil = now.getTime() + options.claimTtlMs;
      try {
        const { lost, unrecorded = [], claimed } = await repository.recordAndClaim(
          id,
          results,
          room > 0 ? { now, claimUntil: new Date(claimedUntil), limit: room } : null,
        );
        recording = 0;
        if (unrecorded.length > 0) {
          logger.error({ deliveryIds: unrecorded }, "webhook delivery: recording these attempts failed; retried once their claims lapse");
        }
        const recorded = unrecorded.length > 0 ? results.filter((r) => !unrecorded.includes(r.delivery.id)) : results;
        if (recorded.length > 0) afterRecorded(recorded, lost);
        claimedTotal += claimed.length;
        for (const delivery of claimed) {
          options.metrics?.observeClaimLag((now.getTime() - delivery.dueAt.getTime()) / 1000);
          ready.push({ delivery, claimedUntil });
        }
        launchReady();
        if (room > 0 && claimed.length === room) turnAgain = true; // more may be due
        else if (room > 0 && refreshDue) {
          refreshDue = false;
          const due = await repository.nextDueAt();
          if (due && due.getTime() > clock.now().getTime()) wakeAt(due);
        }
      } catch (error) {
        recording = 0;
        // Unrecorded attempts keep their claims until those expire; then this or another
        // worker retries the deliveries. Nothing is lost, an attempt may repeat.
        if (results.length > 0) {
          logger.error({ err: error, deliveryIds: results.map((r) => r.delivery.id) }, "webhook delivery: recording attempts failed");
        } else if (!closed) {
          logger.error({ err: error }, "webhook delivery: claiming failed; trying again at the next poll");
        }
        if (!closed) return;
      }
      if (recordNow()) turnAgain = true;
    } while (turnAgain);
  }

  function afterRecorded(results: AttemptResult[], lost: number[]): void {
    attemptsTotal += results.length;
    if (lost.length > 0) logger.warn({ deliveryIds: lost }, "webhook delivery: claims expired before their attempts were recorded");
    for (const result of results) {
      options.metrics?.countAttempt(
        result.next.status === "pending" ? "retrying" : result.next.status === "succeeded" ? "succeeded" : "failed",
      );
      if (result.next.status === "pending") wakeAt(result.next.nextAttemptAt);
      if (result.deactivateSubscription) {
        logger.warn({ subscriptionId: result.delivery.subscription.id }, "webhook subscription deactivated: receiver answered 410 Gone");
      }
    }
    options.onRecorded?.(results);
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

  /**
   * Starts waiting deliveries while slots are free. Attempts sent but not yet recorded are
   * the ones a crash would repeat; they never exceed 4 × concurrency (sending pauses while the
   * database is that far behind).
   */
  function launchReady(): void {
    while (!closed && inFlight.size < concurrency && unrecorded() < 4 * concurrency && ready.length > 0) {
      const { delivery, claimedUntil } = ready.shift()!;
      // A delivery waited while every slot hung up to the timeout: too little of its claim may
      // be left to cover an attempt. It is left to expire and be claimed afresh.
      if (claimedUntil - clock.now().getTime() <= options.attemptTimeoutMs) {
        logger.debug({ deliveryId: delivery.id }, "webhook delivery: claim too old to start an attempt; left to expire");
        refreshDue = true;
        continue;
      }
      launch(delivery);
    }
  }

  function launch(delivery: ClaimedDelivery): void {
    // One reaction for both outcomes (not then/catch/finally: two promises fewer per attempt).
    const promise = attempt(delivery, shutdown.signal).then(
      (result) => {
        if (result) finished.push(result);
        if (turnPromise) finishedDuringTurn += 1;
        settled(delivery);
      },
      (error: unknown) => {
        // The claim stays until it expires; then this or another worker retries the delivery.
        logger.error({ err: error, deliveryId: delivery.id }, "webhook delivery: attempt failed unexpectedly");
        settled(delivery);
      },
    );
    inFlight.set(delivery.id, promise);
  }

  function settled(delivery: ClaimedDelivery): void {
    inFlight.delete(delivery.id);
    launchReady();
    wake();
  }

  /** One attempt; resolves with what to record, or nothing (abandoned, or no attempt made). */
  async function attempt(delivery: ClaimedDelivery, signal: AbortSignal): Promise<AttemptResult | undefined> {
    if (signal.aborted) return undefined;
    if (!delivery.subscription.active) {
      await repository.failWithoutAttempt(id, delivery.id, "subscription is inactive", clock.now());
      options.metrics?.countAttempt("skipped");
      return undefined;
    }
    const attemptedAt = clock.now();
    const headers = deliveryHeaders({
      eventId: delivery.eventId,
      eventType: delivery.eventType,
      subscriptionId: delivery.subscription.id,
      subscriptionUuid: delivery.subscription.uuid,
      version: delivery.subscription.version,
      secret: delivery.subscription.secret,
      body: delivery.payload,
      at: attemptedAt,
    });
    const result = await send({ url: delivery.subscription.url, headers, body: delivery.payload, signal });
    // Abandoned by shutdown: nothing to record, close() hands the claim back.
    if (result.failure === "aborted") return undefined;

    const now = clock.now();
    const verdict = judgeAttempt(
      delivery.subscription.version === 3 ? v3Policy : policy,
      delivery.attemptCount + 1,
      { status: result.status, failure: result.failure, retryAfter: result.headers?.["retry-after"] ?? null },
      now,
    );
    let next: DeliveryTransition;
    if (verdict.kind === "succeeded") next = { status: "succeeded" };
    else if (verdict.kind === "retry") next = { status: "pending", nextAttemptAt: new Date(now.getTime() + verdict.delayMs) };
    else next = { status: "failed" };

    return {
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
      lastError: verdict.kind === "failed" ? [result.error, verdict.reason].filter(Boolean).join("; ") : result.error,
    };
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

  /** Resolves once no turn runs, nothing is in flight, waiting for a slot or waiting to be recorded. */
  async function settle(): Promise<void> {
    while (turnPromise || inFlight.size > 0 || purging || finished.length > 0 || (ready.length > 0 && !closed)) {
      if (turnPromise) await turnPromise;
      if (purging) await purging;
      await Promise.allSettled(inFlight.values());
      if (!turnPromise && finished.length > 0) wake();
      // Waiting deliveries whose claims went stale are dropped in launchReady, never started.
      if (!turnPromise && inFlight.size === 0 && ready.length > 0) launchReady();
    }
  }

  let started = false;
  return {
    id,
    running: () => started && !closed,
    async start() {
      if (closed) throw new Error("delivery worker is closed");
      if (options.wakeups) {
        await options.wakeups.listen(wake).catch((error) => logger.warn({ err: error }, "webhook delivery: listen failed; polling only"));
      }
      armPoll();
      armPurge();
      purge();
      started = true;
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
    async close({ graceMs = 0 } = {}) {
      if (closed) return;
      closed = true;
      wakeTimer?.cancel();
      cancelPoll?.();
      cancelPurge?.();
      // Claimed deliveries not started yet are never started now; they are handed back below.
      ready.length = 0;
      if (graceMs > 0 && inFlight.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
        await Promise.race([Promise.allSettled(inFlight.values()), deadline]);
        clearTimeout(timer);
        if (inFlight.size > 0) logger.warn({ abandoned: inFlight.size }, "webhook delivery: attempts still running at the shutdown deadline are abandoned");
      }
      shutdown.abort();
      // Attempts that finished are recorded (no more claims once closed); abandoned ones are not.
      await settle();
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
