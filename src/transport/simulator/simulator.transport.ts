import { otherParticipants } from "../../core/chats/chat-names.ts";
import type { CoreDeps } from "../../core/deps.ts";
import { TYPING_TIMEOUT_MS } from "../../core/devices/device-signal.ts";
import { clearDeviceSignal, showDeviceSignal } from "../../core/devices/device-signals.service.ts";
import { recordDeliveryReceipt } from "../../core/inbound/delivery-status.service.ts";
import { receiveMessage } from "../../core/inbound/inbound-messages.service.ts";
import {
  readByRecipient,
  receiveCarrierReaction,
  receiveReaction,
  recipientLocationSharing,
} from "../../core/inbound/recipient-actions.service.ts";
import type { ChatWithHandles, DeliveryStatus, Message, ReactionType } from "../../core/model.ts";
import type { Clock, NewOutboundJob, OutboundMessage, Random, SendReceipt, Transport } from "../../core/ports.ts";
import { commonService, hasRichSignals, type HandleProfile } from "./profiles/profile.ts";
import { effectiveProfiles } from "./profiles/profiles.service.ts";
import { magicNumber } from "./profiles/magic-numbers.ts";
import type { JobHandler } from "../../outbound/worker.ts";
import { takeAutoReply } from "./auto-reply.ts";
import { CARRIER_SCENARIO_KINDS, carrierSteps, type CarrierStep } from "../../core/scenarios/delivery-scenario.ts";
import { playCarrierStep } from "../../core/scenarios/delivery-scenarios.service.ts";
import type { SimulatorRepositories, SimulatorStore } from "./ports.ts";

/**
 * The simulated recipient network: a Transport adapter that plays every external handle
 * as a device with a profile (profiles/). It answers how a message travels (route),
 * accepts it (send) and plans what the other side does next as outbound jobs — in the same
 * transaction that records what it accepted, so a crash loses and repeats nothing. The jobs
 * drive the other side through core's inbound services: delivered or failed (by the carrier
 * id it gave), read, tapbacks, replies. All timing goes through the Clock and the queue, all
 * randomness (jitter) through the seeded Random, so a virtual clock replays a run exactly.
 *
 * Lifecycle of one message of ours, per reachable recipient, from its delivery time D:
 *   sent (pending) ─latency─▶ D delivered ─read_after─▶ message.read
 *                              ├─auto_reaction.delay─▶ reaction.received
 *                              └─reply.delay─▶ (message.read if not yet) message.received
 * Unreachable recipients: pending ─latency─▶ service_unavailable, and nothing follows.
 * With no latency the outcome is known at once and returned by send().
 * A carrier scenario armed for the chat (src/core/scenarios) takes the message instead: its
 * steps (fail, deliver, read, downgrade) are planned from the same travel time, and nothing else.
 */
export interface Simulator {
  transport: Transport;
  /** Job handlers of the simulated carrier's schedule, by kind, for the outbound worker. */
  handlers: ReadonlyMap<string, JobHandler>;
  /** Binds core (which holds this transport, hence after construction). */
  start(deps: CoreDeps): void;
}

const DELIVER = "simulator.deliver";
const FAIL = "simulator.fail";
const READ = "simulator.read";
const REACT = "simulator.react";
const REPLY = "simulator.reply";
const SCENARIO_STEP = "simulator.scenario_step";
const SHARE_LOCATION = "simulator.share_location";

export function createSimulator(options: { clock: Clock; random: Random; store: SimulatorStore }): Simulator {
  const { clock, random, store } = options;
  let bound: CoreDeps | undefined;
  const core = (): CoreDeps => {
    if (!bound) throw new Error("simulator used before start(deps)");
    return bound;
  };

  /**
   * Chats where this process showed our typing. Sending clears the indicator only there,
   * saving a read per send; an indicator left from before a restart times out within 60 s.
   */
  const typingShown = new Set<number>();

  /** Up to `jitterMs` extra, drawn only when jitter is on (so sequences stay put otherwise). */
  const jitter = (profile: HandleProfile): number =>
    profile.jitterMs > 0 ? Math.floor(random.next() * (profile.jitterMs + 1)) : 0;

  const isInstant = (profile: HandleProfile) => profile.latencyMs === 0 && profile.jitterMs === 0;

  async function profilesOf(repos: Pick<SimulatorRepositories, "handleProfiles">, orgId: number, handles: readonly string[]): Promise<HandleProfile[]> {
    const profiles = await effectiveProfiles(repos, orgId, handles);
    return handles.map((h) => profiles.get(h)!);
  }

  /**
   * Accepts a message once: its carrier id and immediate outcome, the jobs that play what
   * follows, and core's record of the answer (`recordReceipt`) commit together; a repeated
   * send (after a crash) gets the stored answer.
   */
  async function accept(outbound: OutboundMessage): Promise<SendReceipt> {
    return store.transaction(async (tx) => {
      const receipt = await acceptIn(tx, outbound.orgId, outbound.chat, outbound.message.message);
      await outbound.recordReceipt?.(tx, receipt);
      return receipt;
    });
  }

  async function acceptIn(
    tx: SimulatorRepositories,
    orgId: number,
    chat: ChatWithHandles,
    { id: messageId, text, sentAt }: Message,
  ): Promise<SendReceipt> {
    const chatId = chat.chat.id;
    const now = clock.now();
    const carrierMessageId = `sim-${orgId}-${messageId}`;
    const profiles = await profilesOf(tx, orgId, otherParticipants(chat).map((h) => h.handle));
    const reachable = profiles.filter((p) => p.reachable);
    const jobs: NewOutboundJob[] = [];
    const job = (kind: string, at: number, payload: Record<string, unknown>) =>
      jobs.push({ orgId, kind, payload, runAt: new Date(at) });
    const start = Math.max(sentAt.getTime(), now.getTime());
    /**
     * Records the send row before anything else is written: when the message was accepted
     * before (a repeat after a crash) nothing is, and the stored answer is returned instead.
     * The insert tells which, so a first send reads nothing back.
     */
    const recordSend = async (status: DeliveryStatus, deliveredAt: Date | null): Promise<SendReceipt | undefined> => {
      if (await tx.sends.create({ messageId, orgId, carrierMessageId, status, deliveredAt }, now)) return undefined;
      const known = await tx.sends.find(messageId);
      if (!known) throw new Error(`simulator: send of message ${messageId} neither recorded nor found`);
      const outcome =
        known.status === "delivered"
          ? { status: "delivered" as const, at: known.deliveredAt! }
          : known.status === "service_unavailable"
            ? { status: "service_unavailable" as const }
            : undefined;
      return { carrierMessageId: known.carrierMessageId, ...(outcome ? { outcome } : {}) };
    };

    // A carrier scenario armed for the chat takes this message: its steps replace what the
    // profiles would do (no receipt, reaction or reply follows), from the usual travel time on.
    const scenario = await tx.deliveryScenarios.nextArmed(chatId, CARRIER_SCENARIO_KINDS);
    if (scenario) {
      const travelling = reachable.length > 0 ? reachable : profiles;
      let at = start + Math.max(0, ...travelling.map((p) => p.latencyMs + jitter(p)));
      for (const { step, afterMs } of carrierSteps(scenario)) {
        at += afterMs;
        job(SCENARIO_STEP, at, { scenarioId: scenario.id, messageId, step });
      }
      const known = await recordSend("pending", null);
      if (known) return known;
      await tx.deliveryScenarios.recordApplied(scenario.id, { messageId, eventIds: [] }, now);
      await tx.outboundJobs.add(jobs, now);
      return { carrierMessageId };
    }

    let receipt: SendReceipt;
    let deliveredAt: number | null = null;
    if (reachable.length > 0 && reachable.every(isInstant)) {
      deliveredAt = now.getTime();
      receipt = { carrierMessageId, outcome: { status: "delivered", at: now } };
    } else if (reachable.length === 0 && profiles.every(isInstant)) {
      receipt = { carrierMessageId, outcome: { status: "service_unavailable" } };
    } else {
      const travelling = reachable.length > 0 ? reachable : profiles;
      const at = start + Math.max(0, ...travelling.map((p) => p.latencyMs + jitter(p)));
      if (reachable.length > 0) {
        deliveredAt = at;
        job(DELIVER, at, { carrierMessageId, at: new Date(at).toISOString() });
      } else {
        job(FAIL, at, { carrierMessageId });
      }
      receipt = { carrierMessageId };
    }
    const known = await recordSend(
      receipt.outcome?.status ?? "pending",
      receipt.outcome?.status === "delivered" ? receipt.outcome.at : null,
    );
    if (known) return known;

    if (deliveredAt !== null) {
      for (const profile of reachable) {
        const from = profile.handle;
        const readsReceipts = chat.chat.service !== "SMS" && hasRichSignals(profile.service) && profile.readAfterMs !== null;
        if (readsReceipts) job(READ, deliveredAt + profile.readAfterMs! + jitter(profile), { from, chatId, carrierMessageId });
        if (profile.autoReaction) {
          job(REACT, deliveredAt + profile.autoReaction.delayMs + jitter(profile), {
            from,
            messageId,
            type: profile.autoReaction.type,
            // Applied once however often the job runs (see receiveCarrierReaction).
            carrierEventId: `${carrierMessageId}-reaction-${from}`,
          });
        }
        const reply = profile.autoReply.type === "none" ? null : await takeAutoReply(tx, orgId, from, text, now);
        if (reply) {
          job(REPLY, deliveredAt + reply.delayMs + jitter(profile), {
            from,
            chatId,
            text: reply.text,
            attachmentUrls: reply.attachmentUrls,
            // Answering means having read: the receipt comes first when receipts are on.
            readFirst: readsReceipts,
            carrierMessageId: `${carrierMessageId}-reply-${from}`,
          });
        }
      }
    }
    await tx.outboundJobs.add(jobs, now);
    return receipt;
  }

  /** Recipients whose devices show typing and read receipts (not over SMS). */
  async function richRecipients(chat: ChatWithHandles, only?: (p: HandleProfile) => boolean): Promise<string[]> {
    if (chat.chat.service === "SMS") return [];
    const profiles = await profilesOf(store.read, chat.chat.orgId, otherParticipants(chat).map((h) => h.handle));
    return profiles.filter((p) => hasRichSignals(p.service) && (only ? only(p) : true)).map((p) => p.handle);
  }

  async function showContactCard(chat: ChatWithHandles): Promise<void> {
    const deps = core();
    const orgId = chat.chat.orgId;
    const number = await deps.store.read.phoneNumbers.findByNumber(orgId, chat.phoneNumber);
    const user = number ? await deps.store.read.users.findById(orgId, number.userId) : undefined;
    const name = user ? `${user.firstName} ${user.lastName}`.trim() : chat.phoneNumber;
    // Sharing name and photo is an iMessage feature.
    const handles = await richRecipients(chat, (p) => p.service === "iMessage");
    await showDeviceSignal(deps, orgId, chat.chat.id, handles, "contact_card", { detail: { phone_number: chat.phoneNumber, name } });
  }

  /** A location-sharer starts sharing a while after it was asked; other devices ignore the request. */
  async function answerLocationRequest(chat: ChatWithHandles): Promise<void> {
    const { orgId, id: chatId } = chat.chat;
    const now = clock.now();
    const jobs: NewOutboundJob[] = [];
    for (const { handle } of otherParticipants(chat)) {
      const sharing = magicNumber(handle)?.sharesLocation;
      if (!sharing) continue;
      const payload = { from: handle, chatId, durationMinutes: sharing.durationMinutes };
      jobs.push({ orgId, kind: SHARE_LOCATION, payload, runAt: new Date(now.getTime() + sharing.delayMs) });
    }
    if (jobs.length > 0) await store.transaction((tx) => tx.outboundJobs.add(jobs, now));
  }

  const transport: Transport = {
    async serviceFor(orgId, handles) {
      return commonService((await profilesOf(store.read, orgId, handles)).map((p) => p.service));
    },
    async route(orgId, handles) {
      const profiles = await profilesOf(store.read, orgId, handles);
      return {
        service: commonService(profiles.map((p) => p.service)),
        handleServices: new Map(profiles.map((p) => [p.handle, p.service])),
      };
    },
    async send(outbound) {
      const { orgId, chat } = outbound;
      const chatId = chat.chat.id;
      // Sending ends our typing indicator.
      if (typingShown.delete(chatId)) {
        await clearDeviceSignal(core(), orgId, chatId, otherParticipants(chat).map((h) => h.handle), "our_typing");
      }
      return accept(outbound);
    },
    async signal(chat, signal) {
      const deps = core();
      const { orgId, id: chatId } = chat.chat;
      switch (signal) {
        case "typing_started": {
          typingShown.add(chatId);
          const expiresAt = new Date(clock.now().getTime() + TYPING_TIMEOUT_MS);
          await showDeviceSignal(deps, orgId, chatId, await richRecipients(chat), "our_typing", { expiresAt });
          return;
        }
        case "typing_stopped":
          typingShown.delete(chatId);
          await clearDeviceSignal(deps, orgId, chatId, otherParticipants(chat).map((h) => h.handle), "our_typing");
          return;
        case "read":
          await showDeviceSignal(deps, orgId, chatId, await richRecipients(chat), "read_receipt");
          return;
        case "contact_card":
          await showContactCard(chat);
          return;
        case "location_request":
          await answerLocationRequest(chat);
          return;
      }
    },
    async supportsIMessage(orgId, handle) {
      const [profile] = await profilesOf(store.read, orgId, [handle]);
      return profile!.service === "iMessage" && profile!.reachable;
    },
  };

  const str = (value: unknown) => String(value);
  const handlers = new Map<string, JobHandler>([
    [
      DELIVER,
      async (job) => {
        const at = new Date(str(job.payload.at));
        await recordDeliveryReceipt(core(), job.orgId, str(job.payload.carrierMessageId), { status: "delivered", at });
      },
    ],
    [FAIL, async (job) => void (await recordDeliveryReceipt(core(), job.orgId, str(job.payload.carrierMessageId), { status: "service_unavailable" }))],
    [
      READ,
      async (job) => {
        // A read can fall due before its delivery ran (the delivery's claim was left by a
        // crashed worker and lapses later): it waits for the delivery instead of reading nothing.
        const message = await store.read.messages.findByCarrierId(job.orgId, str(job.payload.carrierMessageId));
        if (message?.deliveryStatus === "pending") throw new Error(`message ${message.id} is not delivered yet; reading later`);
        await readByRecipient(core(), job.orgId, { from: str(job.payload.from), chatId: Number(job.payload.chatId) });
      },
    ],
    [
      REACT,
      async (job) => {
        const { from, messageId, type, carrierEventId } = job.payload;
        const reaction = { from: str(from), messageId: Number(messageId), type: type as ReactionType, operation: "add" as const };
        // Jobs queued before reactions carried an event id apply as they did then.
        if (carrierEventId === undefined) await receiveReaction(core(), job.orgId, reaction);
        else await receiveCarrierReaction(core(), job.orgId, { ...reaction, carrierEventId: str(carrierEventId) });
      },
    ],
    [
      REPLY,
      async (job) => {
        const p = job.payload;
        const chatId = Number(p.chatId);
        if (p.readFirst) await readByRecipient(core(), job.orgId, { from: str(p.from), chatId }).catch(() => undefined);
        await receiveMessage(core(), job.orgId, {
          from: str(p.from),
          chatId,
          text: str(p.text),
          attachmentUrls: p.attachmentUrls as string[],
          carrierMessageId: str(p.carrierMessageId),
        });
      },
    ],
    [
      SHARE_LOCATION,
      async (job) => {
        const { from, chatId, durationMinutes } = job.payload;
        const input = { from: str(from), chatId: Number(chatId), state: "started" as const, durationMinutes: Number(durationMinutes) };
        await recipientLocationSharing(core(), job.orgId, input);
      },
    ],
    [
      SCENARIO_STEP,
      async (job) => {
        const { scenarioId, messageId, step } = job.payload;
        await playCarrierStep(core(), job.orgId, Number(scenarioId), Number(messageId), step as CarrierStep);
      },
    ],
  ]);

  return {
    transport,
    handlers,
    start(deps) {
      bound = deps;
    },
  };
}
