import type { CoreDeps } from "../deps.ts";
import { DomainError } from "../errors.ts";
import { normalizeHandle } from "../handles.ts";
import { callFacts } from "../events/domain-events.ts";
import { emitEvent } from "../webhooks/events.ts";
import type { EventRef } from "../inbound/inbound.ts";
import { participantsKey } from "../chats/chat-names.ts";
import { CALL_STATUSES, callSteps, type Call, type CallStatus } from "./call.ts";

export interface CallInput {
  from: string;
  to: string;
  durationSeconds: number;
  status?: CallStatus | undefined;
  /** When the call began; default: `durationSeconds` before now, so it ends now. */
  startedAt?: Date | undefined;
  voicemail?: boolean | undefined;
  answeredBy?: string | undefined;
  forwardedFrom?: string | undefined;
  recording?: { url?: string | undefined; transcription?: string | undefined; summary?: string | undefined } | undefined;
}

/** The call.completed of a call's events (always the last). */
const completed = (events: readonly EventRef[]): EventRef => events[events.length - 1]!;

export const MAX_CALL_SECONDS = 24 * 3600;

/**
 * A voice call on one of our numbers ended: its steps (call.initiated … call.ended, see
 * callSteps), then call.completed. Calls have no endpoint in either API; the webhooks are all
 * a partner sees. Exactly one of `from` and `to` must be ours: `to` ours is
 * an inbound call, `from` ours an outbound one.
 */
export async function completeCall(deps: CoreDeps, orgId: number, input: CallInput): Promise<{ call: Call; events: EventRef[] }> {
  const repos = deps.store.read;
  const from = normalizeHandle(input.from, "from", false);
  const to = normalizeHandle(input.to, "to", false);
  const [fromOurs, toOurs] = await Promise.all([
    repos.phoneNumbers.findByNumber(orgId, from),
    repos.phoneNumbers.findByNumber(orgId, to),
  ]);
  if (fromOurs && toOurs) throw new DomainError("validation_failed", "from and to are both your numbers; one must be the other party", { field: "to" });
  const ours = toOurs ?? fromOurs;
  if (!ours) throw new DomainError("sender_not_owned", "one of from and to must be a phone number of your organization", { field: "to" });
  if (!Number.isInteger(input.durationSeconds) || input.durationSeconds < 0 || input.durationSeconds > MAX_CALL_SECONDS) {
    throw new DomainError("validation_failed", `duration_seconds must be a whole number from 0 to ${MAX_CALL_SECONDS}`, {
      field: "duration_seconds",
    });
  }
  const status = input.status ?? "completed";
  if (!CALL_STATUSES.includes(status)) {
    throw new DomainError("validation_failed", `status must be one of ${CALL_STATUSES.join(", ")}`, { field: "status" });
  }
  const optionalPhone = (value: string | undefined, field: string) => (value === undefined ? undefined : normalizeHandle(value, field, false));
  const answeredBy = optionalPhone(input.answeredBy, "answered_by");
  const forwardedFrom = optionalPhone(input.forwardedFrom, "forwarded_from");
  const voicemail = input.voicemail ?? false;
  const now = deps.clock.now();
  const startedAt = input.startedAt ?? new Date(now.getTime() - input.durationSeconds * 1000);
  if (Number.isNaN(startedAt.getTime())) throw new DomainError("validation_failed", "started_at must be a date-time", { field: "started_at" });
  const endedAt = new Date(startedAt.getTime() + input.durationSeconds * 1000);
  const answered = status === "completed" && !voicemail;

  const result = await deps.store.transaction(async (tx) => {
    const call = await tx.calls.create({
      orgId,
      phoneNumberId: ours.id,
      direction: toOurs ? "inbound" : "outbound",
      fromHandle: from,
      toHandle: to,
      status,
      startedAt,
      endedAt,
      durationSeconds: input.durationSeconds,
      answeredBy: answeredBy ?? (answered ? to : null),
      forwardedFrom: forwardedFrom ?? null,
      voicemail,
      recording: input.recording
        ? {
            url: input.recording.url ?? null,
            durationSeconds: input.durationSeconds,
            transcription: input.recording.transcription ?? null,
            summary: input.recording.summary ?? null,
          }
        : null,
      createdAt: now,
    });
    const facts = callFacts(call);
    // The steps first, each in its own event, then V2's summary of the whole call. The steps go
    // with the direct chat with the other party, when there is one, so they arrive in order.
    const other = toOurs ? from : to;
    const direct = await tx.chats.findByParticipants(ours.id, participantsKey([other]));
    const events: EventRef[] = [];
    for (const step of callSteps(status, voicemail)) {
      const at = (step === "call.initiated" || step === "call.ringing" || step === "call.answered" ? startedAt : endedAt).toISOString();
      const event = { type: step, call: facts, line: ours.phoneNumber, chatUuid: direct?.uuid ?? null, at };
      events.push({ id: (await emitEvent(tx, deps, orgId, event, direct?.id ?? null)).id, type: step });
    }
    events.push({ id: (await emitEvent(tx, deps, orgId, { type: "call.completed", call: facts }, null)).id, type: "call.completed" });
    return { call, events };
  });
  deps.activity.publish({ orgId, kind: "event", eventId: completed(result.events).id, eventType: "call.completed" });
  return result;
}
