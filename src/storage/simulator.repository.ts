import type { Kysely } from "kysely";
import type { Call, CallDirection, CallStatus } from "../core/calls/call.ts";
import type { DeviceSignal, DeviceSignalKind } from "../core/devices/device-signal.ts";
import type { Service } from "../core/model.ts";
import type { CallRepository, DeviceSignalRepository, SandboxRepository } from "../core/ports.ts";
import type { HandleProfileRepository } from "../transport/simulator/ports.ts";
import type { AutoReaction, AutoReply, HandleProfileSettings, StoredHandleProfile } from "../transport/simulator/profiles/profile.ts";
import { flag, maybeStamp, stamp } from "./mappers.ts";
import type { CallRow, Database, DeviceSignalRow, HandleProfileRow } from "./schema.ts";
import { anyOf, compiledOnce } from "./compiled-once.ts";

/** Storage of the simulated recipient network: profiles, device signals, calls, and the sandbox reset. */

const maybeDate = (text: string | null): Date | null => (text === null ? null : new Date(text));

export function handleProfileRowToProfile(row: HandleProfileRow): StoredHandleProfile {
  return {
    orgId: row.org_id,
    handle: row.handle,
    service: row.service as Service,
    reachable: row.reachable === 1,
    latencyMs: row.latency_ms,
    jitterMs: row.jitter_ms,
    readAfterMs: row.read_after_ms,
    autoReply: JSON.parse(row.auto_reply) as AutoReply,
    autoReaction: row.auto_reaction === null ? null : (JSON.parse(row.auto_reaction) as AutoReaction),
    scriptPosition: row.script_position,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

function settingsColumns(settings: HandleProfileSettings) {
  return {
    service: settings.service,
    reachable: flag(settings.reachable),
    latency_ms: settings.latencyMs,
    jitter_ms: settings.jitterMs,
    read_after_ms: settings.readAfterMs,
    auto_reply: JSON.stringify(settings.autoReply),
    auto_reaction: settings.autoReaction === null ? null : JSON.stringify(settings.autoReaction),
  };
}

// A send's route and the simulator's acceptance both ask it: compiled once, the handles one list value.
const selectProfiles = compiledOnce((db, a: { orgId: number; handles: readonly string[] }) =>
  db.selectFrom("handle_profiles").selectAll().where("org_id", "=", a.orgId).where(anyOf(db, "handle", a.handles)),
);

export function handleProfileRepository(db: Kysely<Database>): HandleProfileRepository {
  return {
    async find(orgId, handle) {
      const row = await db
        .selectFrom("handle_profiles")
        .selectAll()
        .where("org_id", "=", orgId)
        .where("handle", "=", handle)
        .executeTakeFirst();
      return row && handleProfileRowToProfile(row);
    },
    async findMany(orgId, handles) {
      if (handles.length === 0) return [];
      const { rows } = await selectProfiles(db, { orgId, handles });
      return rows.map(handleProfileRowToProfile);
    },
    async list(orgId) {
      const rows = await db
        .selectFrom("handle_profiles")
        .selectAll()
        .where("org_id", "=", orgId)
        .orderBy("handle")
        .execute();
      return rows.map(handleProfileRowToProfile);
    },
    async save(orgId, handle, settings, now) {
      const columns = settingsColumns(settings);
      const row = await db
        .insertInto("handle_profiles")
        .values({
          org_id: orgId,
          handle,
          ...columns,
          script_position: 0,
          created_at: stamp(now),
          updated_at: stamp(now),
        })
        .onConflict((oc) =>
          oc.columns(["org_id", "handle"]).doUpdateSet({ ...columns, script_position: 0, updated_at: stamp(now) }),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return handleProfileRowToProfile(row);
    },
    async delete(orgId, handle) {
      const result = await db
        .deleteFrom("handle_profiles")
        .where("org_id", "=", orgId)
        .where("handle", "=", handle)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async setScriptPosition(orgId, handle, position, now) {
      await db
        .updateTable("handle_profiles")
        .set({ script_position: position, updated_at: stamp(now) })
        .where("org_id", "=", orgId)
        .where("handle", "=", handle)
        .execute();
    },
  };
}

function deviceSignalRowToSignal(row: DeviceSignalRow): DeviceSignal {
  return {
    orgId: row.org_id,
    chatId: row.chat_id,
    handle: row.handle,
    kind: row.kind as DeviceSignalKind,
    at: new Date(row.at),
    expiresAt: maybeDate(row.expires_at),
    detail: row.detail === null ? null : (JSON.parse(row.detail) as Record<string, unknown>),
  };
}

export function deviceSignalRepository(db: Kysely<Database>): DeviceSignalRepository {
  const find = async (chatId: number, handle: string, kind: DeviceSignalKind) => {
    const row = await db
      .selectFrom("device_signals")
      .selectAll()
      .where("chat_id", "=", chatId)
      .where("handle", "=", handle)
      .where("kind", "=", kind)
      .executeTakeFirst();
    return row && deviceSignalRowToSignal(row);
  };
  return {
    async put(signal) {
      const values = {
        at: stamp(signal.at),
        expires_at: maybeStamp(signal.expiresAt),
        detail: signal.detail === null ? null : JSON.stringify(signal.detail),
      };
      await db
        .insertInto("device_signals")
        .values({ org_id: signal.orgId, chat_id: signal.chatId, handle: signal.handle, kind: signal.kind, ...values })
        .onConflict((oc) => oc.columns(["chat_id", "handle", "kind"]).doUpdateSet(values))
        .execute();
    },
    async remove(chatId, handle, kind) {
      const existing = await find(chatId, handle, kind);
      if (!existing) return undefined;
      await db
        .deleteFrom("device_signals")
        .where("chat_id", "=", chatId)
        .where("handle", "=", handle)
        .where("kind", "=", kind)
        .execute();
      return existing;
    },
    find,
    async listForHandle(orgId, handle) {
      const rows = await db
        .selectFrom("device_signals")
        .selectAll()
        .where("org_id", "=", orgId)
        .where("handle", "=", handle)
        .orderBy("chat_id")
        .orderBy("kind")
        .execute();
      return rows.map(deviceSignalRowToSignal);
    },
  };
}

function callRowToCall(row: CallRow): Call {
  return {
    id: row.id,
    orgId: row.org_id,
    phoneNumberId: row.phone_number_id,
    direction: row.direction as CallDirection,
    fromHandle: row.from_handle,
    toHandle: row.to_handle,
    status: row.status as CallStatus,
    startedAt: new Date(row.started_at),
    endedAt: new Date(row.ended_at),
    durationSeconds: row.duration_seconds,
    answeredBy: row.answered_by,
    forwardedFrom: row.forwarded_from,
    voicemail: row.voicemail === 1,
    recording: row.recording === null ? null : (JSON.parse(row.recording) as Call["recording"]),
    createdAt: new Date(row.created_at),
  };
}

export function callRepository(db: Kysely<Database>): CallRepository {
  return {
    async create(call) {
      const row = await db
        .insertInto("calls")
        .values({
          org_id: call.orgId,
          phone_number_id: call.phoneNumberId,
          direction: call.direction,
          from_handle: call.fromHandle,
          to_handle: call.toHandle,
          status: call.status,
          started_at: stamp(call.startedAt),
          ended_at: stamp(call.endedAt),
          duration_seconds: call.durationSeconds,
          answered_by: call.answeredBy,
          forwarded_from: call.forwardedFrom,
          voicemail: flag(call.voicemail),
          recording: call.recording === null ? null : JSON.stringify(call.recording),
          created_at: stamp(call.createdAt),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return callRowToCall(row);
    },
  };
}

export function sandboxRepository(db: Kysely<Database>): SandboxRepository {
  const count = async (table: "chats" | "messages" | "contacts" | "events" | "handle_profiles" | "calls", orgId: number) => {
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .where("org_id", "=", orgId)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  };
  return {
    async wipeOrganization(orgId) {
      const [chats, messages, contacts, events, profiles, calls] = await Promise.all([
        count("chats", orgId),
        count("messages", orgId),
        count("contacts", orgId),
        count("events", orgId),
        count("handle_profiles", orgId),
        count("calls", orgId),
      ]);
      const attachments = await db.selectFrom("attachments").select("storage_key").where("org_id", "=", orgId).execute();
      // Children first, so neither dialect depends on cascade order.
      await db
        .deleteFrom("webhook_attempts")
        .where("delivery_id", "in", (eb) => eb.selectFrom("webhook_deliveries").select("id").where("org_id", "=", orgId))
        .execute();
      await db.deleteFrom("webhook_deliveries").where("org_id", "=", orgId).execute();
      await db.deleteFrom("events").where("org_id", "=", orgId).execute();
      await db.deleteFrom("reactions").where("org_id", "=", orgId).execute();
      await db.deleteFrom("attachments").where("org_id", "=", orgId).execute();
      await db.deleteFrom("device_signals").where("org_id", "=", orgId).execute();
      await db.deleteFrom("messages").where("org_id", "=", orgId).execute();
      await db
        .deleteFrom("chat_handles")
        .where("chat_id", "in", (eb) => eb.selectFrom("chats").select("id").where("org_id", "=", orgId))
        .execute();
      await db.deleteFrom("chats").where("org_id", "=", orgId).execute();
      await db.deleteFrom("contacts").where("org_id", "=", orgId).execute();
      await db.deleteFrom("handle_profiles").where("org_id", "=", orgId).execute();
      await db.deleteFrom("calls").where("org_id", "=", orgId).execute();
      // What was still to happen for the org (sends, the simulated carrier's steps) goes too.
      await db.deleteFrom("outbound_jobs").where("org_id", "=", orgId).execute();
      await db.deleteFrom("simulator_sends").where("org_id", "=", orgId).execute();
      await db.deleteFrom("carrier_events").where("org_id", "=", orgId).execute();
      // Scenarios name chats that are gone now.
      await db.deleteFrom("delivery_scenarios").where("org_id", "=", orgId).execute();
      return {
        chats,
        messages,
        contacts,
        events,
        profiles,
        calls,
        attachmentStorageKeys: attachments.map((a) => a.storage_key),
      };
    },
    async isPristine(orgId) {
      const counts = await Promise.all([count("chats", orgId), count("contacts", orgId), count("handle_profiles", orgId)]);
      return counts.every((c) => c === 0);
    },
  };
}
