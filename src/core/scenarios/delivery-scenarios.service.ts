import { loadChat, loadMessageDetails } from "../chats/chat-loading.ts";
import type { CoreDeps } from "../deps.ts";
import { DomainError, notFound } from "../errors.ts";
import { chatFacts, messageFacts, type DomainEvent } from "../events/domain-events.ts";
import type { ChatWithHandles, Message } from "../model.ts";
import type { Repositories } from "../ports.ts";
import { appCardOf } from "../messages/parts.ts";
import { emitEvent } from "../webhooks/events.ts";
import {
  CARD_NOT_SUPPORTED,
  carrierSteps,
  DEFAULT_FAILURE_CODE,
  FAILURE_CODES,
  validateScenarioInput,
  type CarrierStep,
  type DeliveryScenario,
  type ScenarioInput,
} from "./delivery-scenario.ts";

/**
 * Arms, lists and removes delivery scenarios (see delivery-scenario.ts), and plays the
 * carrier steps of one on a message. The carrier (the simulator) decides *when* a step
 * happens to the chat's next message; these functions say *what* it does, each step one
 * transaction with its events, which name the scenario.
 */

/**
 * Arms a scenario for a chat (its next message of ours, or its next event), or plays a
 * carrier kind on one message of ours at once (steps in order, without their delays).
 */
export async function armScenario(deps: CoreDeps, orgId: number, input: ScenarioInput): Promise<DeliveryScenario> {
  const { code, delayMs } = validateScenarioInput(input);
  const now = deps.clock.now();
  const read = deps.store.read;
  if (input.chatId !== undefined) {
    const chat = typeof input.chatId === "number" ? await read.chats.findById(orgId, input.chatId) : await read.chats.findByUuid(orgId, input.chatId);
    if (!chat) throw notFound("chat_not_found", `Chat ${input.chatId} not found`);
    const scenario = await deps.store.transaction((tx) =>
      tx.deliveryScenarios.create({ orgId, kind: input.kind, chatId: chat.id, messageId: null, code, delayMs, createdAt: now }),
    );
    deps.activity.publish({ orgId, kind: "scenario", chatId: scenario.chatId });
    return scenario;
  }
  const ref = input.messageId!;
  const found = typeof ref === "number" ? await read.messages.findById(orgId, ref) : await read.messages.findByUuid(orgId, ref);
  if (!found) throw notFound("message_not_found", `Message ${ref} not found`);
  const messageId = found.id;
  const played = await deps.store.transaction(async (tx) => {
    const message = await tx.messages.findById(orgId, messageId);
    if (!message) throw notFound("message_not_found", `Message ${messageId} not found`);
    if (!message.isFromMe) {
      throw new DomainError("validation_failed", "message_id: delivery scenarios play on messages sent from your number", { field: "message_id" });
    }
    if (input.kind === "read_before_delivered" && message.deliveryStatus !== "pending") {
      throw new DomainError(
        "validation_failed",
        `message_id: message ${messageId} is ${message.deliveryStatus}; read_before_delivered needs one still on its way (arm it on the chat instead)`,
        { field: "message_id" },
      );
    }
    const scenario = await tx.deliveryScenarios.create({ orgId, kind: input.kind, chatId: message.chatId, messageId, code, delayMs, createdAt: now });
    const eventIds: string[] = [];
    for (const { step } of carrierSteps(scenario)) eventIds.push(...(await applyCarrierStep(tx, deps, orgId, scenario, messageId, step)));
    await tx.deliveryScenarios.recordApplied(scenario.id, { messageId, eventIds }, now);
    return (await tx.deliveryScenarios.findById(orgId, scenario.id))!;
  });
  deps.activity.publish({ orgId, kind: "message", chatId: played.chatId, messageId });
  return played;
}

export function listScenarios(deps: CoreDeps, orgId: number): Promise<DeliveryScenario[]> {
  return deps.store.read.deliveryScenarios.list(orgId);
}

export async function getScenario(deps: CoreDeps, orgId: number, id: number): Promise<DeliveryScenario> {
  const scenario = await deps.store.read.deliveryScenarios.findById(orgId, id);
  if (!scenario) throw notFound("scenario_not_found", `Scenario ${id} not found`);
  return scenario;
}

/** Disarms a scenario (or forgets one that applied; what it did stays done and logged). */
export async function deleteScenario(deps: CoreDeps, orgId: number, id: number): Promise<void> {
  const deleted = await deps.store.transaction((tx) => tx.deliveryScenarios.delete(orgId, id));
  if (!deleted) throw notFound("scenario_not_found", `Scenario ${id} not found`);
  deps.activity.publish({ orgId, kind: "scenario" });
}

/**
 * One step of a carrier scenario on a message, as its own transaction (the carrier plays
 * the steps at their planned times). A message deleted meanwhile plays nothing.
 */
export async function playCarrierStep(deps: CoreDeps, orgId: number, scenarioId: number, messageId: number, step: CarrierStep): Promise<void> {
  const played = await deps.store.transaction(async (tx) => {
    const scenario = await tx.deliveryScenarios.findById(orgId, scenarioId);
    const eventIds = await applyCarrierStep(tx, deps, orgId, scenario ?? { id: scenarioId, code: null }, messageId, step);
    if (scenario) await tx.deliveryScenarios.recordApplied(scenarioId, { messageId, eventIds }, deps.clock.now());
    return eventIds.length > 0;
  });
  if (played) {
    const message = await deps.store.read.messages.findById(orgId, messageId);
    if (message) deps.activity.publish({ orgId, kind: "message", chatId: message.chatId, messageId });
  }
}

/**
 * What a step does to one of our messages inside `tx`; returns the events it emitted.
 * deliver: pending → delivered (message.delivered). fail: pending or delivered → failed with
 * the scenario's code (message.failed). read: read by the recipient whatever its status
 * (message.read, which V2 subscribers get too). downgrade: the chat and its recipients fall
 * back to SMS, then the message is delivered over it (an iMessage app card fails instead).
 */
async function applyCarrierStep(
  tx: Repositories,
  deps: CoreDeps,
  orgId: number,
  scenario: Pick<DeliveryScenario, "id" | "code">,
  messageId: number,
  step: CarrierStep,
): Promise<string[]> {
  const message = await tx.messages.findById(orgId, messageId);
  if (!message || !message.isFromMe) return [];
  const chat = await loadChat(tx, orgId, message.chatId);
  const now = deps.clock.now();
  const emit = async (event: DomainEvent) => (await emitEvent(tx, deps, orgId, event, chat.chat.id, { scenarioId: scenario.id })).id;
  const facts = async (current: Message) => {
    const [details] = await loadMessageDetails(tx, [current]);
    return messageFacts(details!, deps.links);
  };
  const deliver = async (current: ChatWithHandles): Promise<string[]> => {
    if (message.deliveryStatus !== "pending") return [];
    await tx.messages.updateDelivery(message.id, "delivered", now);
    const delivered = { ...message, deliveryStatus: "delivered" as const, deliveredAt: now };
    return [await emit({ type: "message.delivered", chat: chatFacts(current), message: await facts(delivered) })];
  };
  const fail = async (code: number): Promise<string[]> => {
    if (message.deliveryStatus !== "pending" && message.deliveryStatus !== "delivered") return [];
    const { reason, status } = FAILURE_CODES[code] ?? FAILURE_CODES[DEFAULT_FAILURE_CODE]!;
    await tx.messages.updateDelivery(message.id, status, message.deliveredAt);
    const failed = { ...message, deliveryStatus: status };
    return [
      await emit({
        type: "message.failed",
        chat: chatFacts(chat),
        message: await facts(failed),
        failure: status === "service_unavailable" ? "service_unavailable" : "delivery_failed",
        at: now.toISOString(),
        code,
        reason,
      }),
    ];
  };
  switch (step) {
    case "deliver":
      return deliver(chat);
    case "fail":
      return fail(scenario.code ?? DEFAULT_FAILURE_CODE);
    case "read": {
      if (message.isRead) return [];
      await tx.messages.markRead(message.id, now);
      const read = { ...message, isRead: true, readAt: now };
      return [await emit({ type: "message.read", chat: chatFacts(chat), message: await facts(read) })];
    }
    case "downgrade": {
      if (chat.chat.service !== "SMS") {
        await tx.chats.setService(chat.chat.id, "SMS", now);
        chat.chat.service = "SMS";
      }
      for (const handle of chat.handles) {
        if (!handle.isMe && handle.leftAt === null && handle.service !== "SMS") {
          await tx.chats.setHandleService(handle.id, "SMS");
          handle.service = "SMS";
        }
      }
      // An app card cannot travel over SMS: it fails (4005) rather than arriving as text.
      return appCardOf(message.parts) ? fail(CARD_NOT_SUPPORTED) : deliver(chat);
    }
  }
}
