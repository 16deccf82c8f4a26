import type { DomainEventType } from "../core/events/domain-events.ts";
import type { NewDelivery, Page } from "../core/ports.ts";

/**
 * What the delivery worker and the delivery log need from storage. Adapter:
 * src/storage/deliveries.repository.ts (the same code on SQLite and Postgres).
 *
 * A delivery is one (event, subscription) pair. Its state machine:
 *   pending ──attempt ok──▶ succeeded
 *   pending ──attempt retryable──▶ pending (next_attempt_at moved on)
 *   pending ──final failure / schedule exhausted / subscription inactive──▶ failed
 *   succeeded | failed ──resend / recover──▶ pending (a new round of attempts)
 * A worker holds a pending delivery between claim and record; a claim expires at
 * `claimed_until`, so deliveries of a killed worker are retaken by others.
 */

export type DeliveryStatus = "pending" | "succeeded" | "failed";

/** A delivery a worker has claimed, with everything needed to send it. */
export interface ClaimedDelivery {
  id: number;
  orgId: number;
  eventId: string;
  /** The subscription face's name of the event type. */
  eventType: string;
  /** The bytes rendered at fan-out for this subscription: exactly what to POST and sign. */
  payload: string;
  /** Attempts made in the current round; drives the retry schedule. */
  attemptCount: number;
  /** When it fell due (its claim lag is measured from here). */
  dueAt: Date;
  /** Attempts made in every round so far; numbers the next attempt in the log. */
  attemptsBefore: number;
  subscription: {
    id: number;
    uuid: string;
    /** The API version of the subscription's face: it picks the signature headers and the retry schedule. */
    version: number;
    url: string;
    secret: string | null;
    active: boolean;
  };
}

/** One HTTP attempt, as the delivery log shows it. */
export interface AttemptRecord {
  url: string;
  requestHeaders: Record<string, string>;
  requestBody: string;
  responseStatus: number | null;
  responseHeaders: Record<string, string> | null;
  /** Truncated to a few KiB. */
  responseBody: string | null;
  durationMs: number;
  error: string | null;
  attemptedAt: Date;
}

/** Where a delivery goes after an attempt. */
export type DeliveryTransition =
  | { status: "succeeded" }
  | { status: "failed" }
  | { status: "pending"; nextAttemptAt: Date };

export interface AttemptResult {
  delivery: ClaimedDelivery;
  attempt: AttemptRecord;
  next: DeliveryTransition;
  /** 410 Gone: the receiver asked us to stop; the subscription becomes inactive. */
  deactivateSubscription: boolean;
  /** Shown on the delivery: the transport error or why it failed for good; null on success. */
  lastError: string | null;
}

export interface DeliverySummary {
  id: number;
  subscriptionId: number;
  webhookUrl: string;
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: Date | null;
  lastResponseStatus: number | null;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** The delivery scenario that shaped it (delayed, duplicated, reordered), if one did. */
  scenarioId: number | null;
}

export interface LoggedAttempt extends AttemptRecord {
  id: number;
  deliveryId: number;
  subscriptionId: number;
  /** 1-based position among every attempt of the delivery, across resends. */
  attemptNumber: number;
}

export interface LoggedEvent {
  id: string;
  orgId: number;
  eventType: DomainEventType;
  chatId: number | null;
  /** `domain`: the domain event as JSON; `v2-envelope` (events from before domain events): the V2 envelope. */
  payload: string;
  payloadFormat: "domain" | "v2-envelope";
  createdAt: Date;
  /** The delivery scenario that made it, if one did. */
  scenarioId: number | null;
  deliveries: DeliverySummary[];
}

export interface LoggedEventDetail extends LoggedEvent {
  attempts: LoggedAttempt[];
}

export interface EventLogQuery {
  eventType?: DomainEventType | undefined;
  chatId?: number | undefined;
  since?: Date | undefined;
  page: number;
  perPage: number;
}

export interface RequeueOutcome {
  subscriptionId: number;
  deliveryId: number;
  /** `queued`: due now; `already_pending`: it was waiting or in flight and is left alone. */
  result: "queued" | "already_pending";
}

export interface ClaimRequest {
  now: Date;
  claimUntil: Date;
  limit: number;
}

export interface DeliveryRepository {
  /**
   * One turn of a worker, in one transaction: writes the finished attempts, then claims.
   *
   * Recording moves each delivery on and counts the attempt on its subscription (a group
   * commit: one transaction per turn, not per attempt). A delivery whose claim was lost
   * (expired and retaken) keeps its new holder's state; its attempt is still logged and
   * counted; its id is returned in `lost`. A delivery deleted meanwhile (with its
   * subscription) is dropped: nothing to move on, no attempt logged. Should a record fail
   * all the same, the others are written one by one and the failing ones are returned in
   * `unrecorded`: they keep their claims and are retried once those lapse.
   *
   * Claiming takes up to `claim.limit` pending deliveries due at `claim.now` (unclaimed, or
   * whose claim has expired) for `workerId` until `claim.claimUntil`. Concurrent workers
   * never get the same delivery (Postgres: FOR UPDATE SKIP LOCKED; SQLite: one writer at a
   * time). Claimed deliveries come oldest due first. Of a chat's deliveries to one
   * subscription only the oldest pending one is claimable (none is while it is in flight or
   * waiting to retry), so a chat's events reach each subscription in commit order.
   */
  recordAndClaim(
    workerId: string,
    results: readonly AttemptResult[],
    claim: ClaimRequest | null,
  ): Promise<{ lost: number[]; unrecorded?: number[]; claimed: ClaimedDelivery[] }>;
  /** Ends a claimed delivery without an HTTP attempt (its subscription is inactive). */
  failWithoutAttempt(workerId: string, deliveryId: number, error: string, now: Date): Promise<void>;
  /** Hands back every claim of `workerId` (graceful shutdown); returns how many. */
  releaseClaims(workerId: string, now: Date): Promise<number>;
  /** Earliest moment a pending delivery becomes claimable (its due time or its claim's expiry). */
  nextDueAt(): Promise<Date | undefined>;
  /** Deletes events created before `cutoff` that have nothing pending; returns how many. */
  purgeEventsBefore(cutoff: Date): Promise<number>;
  /** Depth of the queue across every worker: pending deliveries, those due at `now`, the earliest due time among them. */
  outboxStats(now: Date): Promise<{ pending: number; due: number; oldestDueAt: Date | undefined }>;

  listEvents(orgId: number, query: EventLogQuery): Promise<Page<LoggedEvent>>;
  findEvent(orgId: number, eventId: string): Promise<LoggedEventDetail | undefined>;
  /**
   * Queues the event again for each target: a finished delivery starts a new round due at
   * `now` with the bytes it had, a missing one is created with the target's, a pending one
   * is left alone.
   */
  requeueEvent(orgId: number, eventId: string, targets: readonly NewDelivery[], now: Date): Promise<RequeueOutcome[]>;
  /** Starts a new round for every failed delivery of the subscription whose event is at or after `since`. */
  requeueFailed(orgId: number, subscriptionId: number, since: Date, now: Date): Promise<number>;
}

/** Cross-process wake-ups (Postgres LISTEN/NOTIFY); absent where polling is the only way. */
export interface OutboxWakeups {
  /** Starts (or, after a lost connection, restarts) listening; idempotent. */
  listen(onWake: () => void): Promise<void>;
  close(): Promise<void>;
}

/** An `openlinq listen` listener: one organization's named cursor over its events. */
export interface EventListener {
  id: number;
  orgId: number;
  name: string;
  /** Signs what the listener forwards; kept across restarts. */
  secret: string;
  /** Position of the last event acknowledged: the stream resumes after it. */
  ackedPosition: number;
  ackedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** An event in stream order. */
export interface PositionedEvent {
  position: number;
  id: string;
  orgId: number;
  eventType: DomainEventType;
  chatId: number | null;
  payload: string;
  payloadFormat: "domain" | "v2-envelope";
  createdAt: Date;
}

/**
 * Listener cursors and the events they read. Adapter: src/storage/listeners.repository.ts.
 *
 * Positions: every event gets one after it committed, in the order events became visible
 * (insertion order among those numbered together), so a reader that saw position p has seen
 * every event up to p: an event committed late is numbered later, never behind a cursor. A
 * chat's events commit in order (their transactions serialize on the chat), so they are
 * numbered in order too.
 */
export interface ListenerRepository {
  /** The listener, created (cursor after the newest event, secret `newSecret`) when it does not exist. */
  open(orgId: number, name: string, newSecret: string, now: Date): Promise<{ listener: EventListener; created: boolean }>;
  find(orgId: number, name: string): Promise<EventListener | undefined>;
  list(orgId: number): Promise<EventListener[]>;
  /** Returns whether it existed. */
  delete(orgId: number, name: string): Promise<boolean>;
  /** Moves the cursor so the stream restarts at the first event created at or after `since` (or at the next new one). */
  rewind(orgId: number, name: string, since: Date, now: Date): Promise<EventListener | undefined>;
  /**
   * Moves the cursor forward to `position` (never back; that is rewind's job) unless it is past
   * the newest position handed out (`beyondNewest`); `listener` is undefined when there is none.
   */
  acknowledge(
    orgId: number,
    name: string,
    position: number,
    now: Date,
  ): Promise<{ listener: EventListener | undefined; beyondNewest: boolean }>;
  /** The last position handed out so far. */
  lastPosition(): Promise<number>;
  /** Up to `limit` of the organization's events after `position`, in position order (numbering what committed since). */
  eventsAfter(orgId: number, position: number, limit: number): Promise<PositionedEvent[]>;
}
