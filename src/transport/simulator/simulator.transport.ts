import { otherParticipants } from "../../core/chats/chat-names.ts";
import type { CoreDeps } from "../../core/deps.ts";
import { TYPING_TIMEOUT_MS } from "../../core/devices/device-signal.ts";
import { clearDeviceSignal, showDeviceSignal } from "../../core/devices/device-signals.service.ts";
import { DomainError } from "../../core/errors.ts";
import { recordDeliveryOutcome } from "../../core/inbound/delivery-status.service.ts";
import { receiveMessage } from "../../core/inbound/inbound-messages.service.ts";
import { readByRecipient, receiveReaction } from "../../core/inbound/recipient-actions.service.ts";
import type { ChatWithHandles } from "../../core/model.ts";
import type { Clock, OutboundMessage, Random, Transport } from "../../core/ports.ts";
import { commonService, hasRichSignals, type HandleProfile } from "../../core/profiles/profile.ts";
import { effectiveProfiles, takeAutoReply } from "../../core/profiles/profiles.service.ts";
import { createAgenda } from "./agenda.ts";

/**
 * The simulated recipient network: a Transport adapter that plays every external handle
 * as a device with a profile (core/profiles). Core tells it what we did; it answers how a
 * message travels (accept) and later drives the other side through core's inbound services:
 * delivered or failed, read, tapbacks, replies. All timing goes through the Clock port, and
 * all randomness (jitter) through the seeded Random, so a virtual clock replays a run exactly.
 *
 * Lifecycle of one message of ours, per reachable recipient, from its delivery time D:
 *   sent (pending) ─latency─▶ D delivered ─read_after─▶ message.read
 *                              ├─auto_reaction.delay─▶ reaction.received
 *                              └─reply.delay─▶ (message.read if not yet) message.received
 * Unreachable recipients: pending ─latency─▶ service_unavailable, and nothing follows.
 * With no latency the outcome is known at once and returned by accept().
 */
export interface Simulator {
  transport: Transport;
  /** Binds core (which holds this transport, hence after construction). */
  start(deps: CoreDeps): void;
  /** Resolves once the simulator's queued work is done. */
  idle(): Promise<void>;
  /** Drops planned actions of an organization (after POST /openlinq/v1/reset). */
  forgetOrganization(orgId: number): void;
  /** Actions planned and not yet due. */
  planned(): number;
  stop(): Promise<void>;
}

export interface SimulatorLogger {
  debug(object: object, message: string): void;
  error(object: object, message: string): void;
}

export function createSimulator(options: { clock: Clock; random: Random; logger: SimulatorLogger }): Simulator {
  const { clock, random, logger } = options;
  let bound: CoreDeps | undefined;
  const core = (): CoreDeps => {
    if (!bound) throw new Error("simulator used before start(deps)");
    return bound;
  };

  const agenda = createAgenda(clock, (label, error) => {
    // A chat or message can vanish before a planned action (deleted, or a sandbox reset): expected.
    if (error instanceof DomainError) logger.debug({ action: label, reason: error.message }, "simulated action skipped");
    else logger.error({ action: label, err: error }, "simulated action failed");
  });

  /**
   * Profiles read by accept() inside the send's transaction, handed to the plan made after
   * commit (same chat object): the plan follows exactly what accept decided, without a re-read.
   */
  const acceptedProfiles = new WeakMap<ChatWithHandles, HandleProfile[]>();
  /**
   * Chats where this process showed our typing. Sending clears the indicator only there,
   * saving a read per send; an indicator left from before a restart times out within 60 s.
   */
  const typingShown = new Set<number>();

  /** Up to `jitterMs` extra, drawn only when jitter is on (so sequences stay put otherwise). */
  const jitter = (profile: HandleProfile): number =>
    profile.jitterMs > 0 ? Math.floor(random.next() * (profile.jitterMs + 1)) : 0;

  const isInstant = (profile: HandleProfile) => profile.latencyMs === 0 && profile.jitterMs === 0;

  async function profilesOf(orgId: number, handles: readonly string[]): Promise<HandleProfile[]> {
    const profiles = await effectiveProfiles(core().store.read, orgId, handles);
    return handles.map((h) => profiles.get(h)!);
  }

  async function plan(outbound: OutboundMessage): Promise<void> {
    const deps = core();
    const { orgId, chat, message } = outbound;
    const chatId = chat.chat.id;
    const recipients = otherParticipants(chat);
    // Sending ends our typing indicator (Linq's V2 typing endpoints).
    if (typingShown.delete(chatId)) await clearDeviceSignal(deps, orgId, chatId, recipients.map((h) => h.handle), "our_typing");
    const profiles = acceptedProfiles.get(chat) ?? (await profilesOf(orgId, recipients.map((h) => h.handle)));
    acceptedProfiles.delete(chat);
    const reachable = profiles.filter((p) => p.reachable);
    const sentAt = message.sentAt.getTime();
    let deliveredAt = message.deliveredAt?.getTime() ?? null;

    if (message.deliveryStatus === "pending") {
      const travelling = reachable.length > 0 ? reachable : profiles;
      const at = sentAt + Math.max(0, ...travelling.map((p) => p.latencyMs + jitter(p)));
      if (reachable.length > 0) {
        deliveredAt = at;
        agenda.schedule({
          dueAt: at,
          orgId,
          label: `deliver message ${message.id}`,
          run: async () => void (await recordDeliveryOutcome(deps, orgId, message.id, { status: "delivered", at: new Date(at) })),
        });
      } else {
        agenda.schedule({
          dueAt: at,
          orgId,
          label: `fail message ${message.id}`,
          run: async () => void (await recordDeliveryOutcome(deps, orgId, message.id, { status: "service_unavailable" })),
        });
      }
    }
    if (deliveredAt === null || message.deliveryStatus === "service_unavailable") return;

    for (const profile of reachable) {
      const from = profile.handle;
      const readsReceipts = chat.chat.service !== "SMS" && hasRichSignals(profile.service) && profile.readAfterMs !== null;
      const read = async () => {
        await readByRecipient(deps, orgId, { from, chatId });
      };
      if (readsReceipts) {
        agenda.schedule({ dueAt: deliveredAt + profile.readAfterMs! + jitter(profile), orgId, label: `${from} reads chat ${chatId}`, run: read });
      }
      if (profile.autoReaction) {
        const { type } = profile.autoReaction;
        agenda.schedule({
          dueAt: deliveredAt + profile.autoReaction.delayMs + jitter(profile),
          orgId,
          label: `${from} reacts to message ${message.id}`,
          run: async () => void (await receiveReaction(deps, orgId, { from, messageId: message.id, type, operation: "add" })),
        });
      }
      const reply = profile.autoReply.type === "none" ? null : await takeAutoReply(deps, orgId, from, message.text);
      if (reply) {
        agenda.schedule({
          dueAt: deliveredAt + reply.delayMs + jitter(profile),
          orgId,
          label: `${from} replies in chat ${chatId}`,
          run: async () => {
            // Answering means having read: the receipt comes first when receipts are on.
            if (readsReceipts) await read().catch(() => undefined);
            await receiveMessage(deps, orgId, { from, chatId, text: reply.text, attachmentUrls: reply.attachmentUrls });
          },
        });
      }
    }
  }

  /** Recipients whose devices show typing and read receipts (not over SMS). */
  async function richRecipients(chat: ChatWithHandles, only?: (p: HandleProfile) => boolean): Promise<string[]> {
    if (chat.chat.service === "SMS") return [];
    const profiles = await profilesOf(chat.chat.orgId, otherParticipants(chat).map((h) => h.handle));
    return profiles.filter((p) => hasRichSignals(p.service) && (only ? only(p) : true)).map((p) => p.handle);
  }

  const transport: Transport = {
    async serviceFor(orgId, handles) {
      return commonService((await profilesOf(orgId, handles)).map((p) => p.service));
    },
    async accept(orgId, chat, recipients, repos) {
      const byHandle = await effectiveProfiles(repos, orgId, recipients);
      const profiles = recipients.map((h) => byHandle.get(h)!);
      acceptedProfiles.set(chat, profiles);
      const service = commonService(profiles.map((p) => p.service));
      const handleServices = new Map(profiles.map((p) => [p.handle, p.service]));
      const reachable = profiles.filter((p) => p.reachable);
      if (reachable.length === 0) {
        return profiles.every(isInstant)
          ? { deliveryStatus: "service_unavailable", deliveredAt: null, service, handleServices }
          : { deliveryStatus: "pending", deliveredAt: null, service, handleServices };
      }
      return reachable.every(isInstant)
        ? { deliveryStatus: "delivered", deliveredAt: clock.now(), service, handleServices }
        : { deliveryStatus: "pending", deliveredAt: null, service, handleServices };
    },
    dispatched(outbound) {
      void agenda.enqueue(`plan message ${outbound.message.id}`, () => plan(outbound));
    },
    startedTyping(chat) {
      typingShown.add(chat.chat.id);
      void agenda.enqueue(`our typing in chat ${chat.chat.id}`, async () => {
        const deps = core();
        const expiresAt = new Date(clock.now().getTime() + TYPING_TIMEOUT_MS);
        await showDeviceSignal(deps, chat.chat.orgId, chat.chat.id, await richRecipients(chat), "our_typing", { expiresAt });
      });
    },
    stoppedTyping(chat) {
      typingShown.delete(chat.chat.id);
      void agenda.enqueue(`our typing ends in chat ${chat.chat.id}`, async () => {
        const handles = otherParticipants(chat).map((h) => h.handle);
        await clearDeviceSignal(core(), chat.chat.orgId, chat.chat.id, handles, "our_typing");
      });
    },
    markedRead(chat) {
      void agenda.enqueue(`read receipt in chat ${chat.chat.id}`, async () => {
        await showDeviceSignal(core(), chat.chat.orgId, chat.chat.id, await richRecipients(chat), "read_receipt");
      });
    },
    sharedContact(chat) {
      void agenda.enqueue(`contact card in chat ${chat.chat.id}`, async () => {
        const deps = core();
        const orgId = chat.chat.orgId;
        const number = await deps.store.read.phoneNumbers.findByNumber(orgId, chat.phoneNumber);
        const user = number ? await deps.store.read.users.findById(orgId, number.userId) : undefined;
        const name = user ? `${user.firstName} ${user.lastName}`.trim() : chat.phoneNumber;
        // Sharing name and photo is an iMessage feature.
        const handles = await richRecipients(chat, (p) => p.service === "iMessage");
        await showDeviceSignal(deps, orgId, chat.chat.id, handles, "contact_card", {
          detail: { phone_number: chat.phoneNumber, name },
        });
      });
    },
    async supportsIMessage(orgId, handle) {
      const [profile] = await profilesOf(orgId, [handle]);
      return profile!.service === "iMessage" && profile!.reachable;
    },
  };

  return {
    transport,
    start(deps) {
      bound = deps;
    },
    idle: () => agenda.idle(),
    forgetOrganization: (orgId) => agenda.forget(orgId),
    planned: () => agenda.planned(),
    stop: () => agenda.stop(),
  };
}
