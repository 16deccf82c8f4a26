import type { CoreDeps } from "../deps.ts";
import type { Activity } from "../ports.ts";
import type { DeviceSignal, DeviceSignalKind } from "./device-signal.ts";

/**
 * Records what simulated devices show about us (our typing bubble, "Read", our shared
 * name and photo). The simulator calls these when core tells it we acted on a chat;
 * GET /openlinq/v1/handles/{handle} and the inbox read them back. No webhook: these are
 * things the other side sees, not things that happen to us.
 */

function activityKind(kind: DeviceSignalKind): Activity["kind"] {
  return kind === "our_typing" || kind === "their_typing" ? "typing" : "chat";
}

export async function showDeviceSignal(
  deps: CoreDeps,
  orgId: number,
  chatId: number,
  handles: readonly string[],
  kind: DeviceSignalKind,
  options: { expiresAt?: Date; detail?: Record<string, unknown> } = {},
): Promise<void> {
  if (handles.length === 0) return;
  const at = deps.clock.now();
  await deps.store.transaction(async (tx) => {
    for (const handle of handles) {
      await tx.deviceSignals.put({
        orgId,
        chatId,
        handle,
        kind,
        at,
        expiresAt: options.expiresAt ?? null,
        detail: options.detail ?? null,
      });
    }
  });
  deps.activity.publish({ orgId, kind: activityKind(kind), chatId, detail: { signal: kind, handles, display: true, side: "ours" } });
}

/** Removes the signal from these devices; publishes only when one was showing. */
export async function clearDeviceSignal(
  deps: CoreDeps,
  orgId: number,
  chatId: number,
  handles: readonly string[],
  kind: DeviceSignalKind,
): Promise<void> {
  if (handles.length === 0) return;
  // Most sends clear nothing: look before opening a transaction.
  const showing = await Promise.all(handles.map((h) => deps.store.read.deviceSignals.find(chatId, h, kind)));
  if (showing.every((s) => s === undefined)) return;
  const now = deps.clock.now();
  const removed = await deps.store.transaction(async (tx) => {
    const cleared: string[] = [];
    for (const handle of handles) {
      const signal = await tx.deviceSignals.remove(chatId, handle, kind);
      if (signal && (signal.expiresAt === null || signal.expiresAt > now)) cleared.push(signal.handle);
    }
    return cleared;
  });
  if (removed.length > 0) {
    deps.activity.publish({ orgId, kind: activityKind(kind), chatId, detail: { signal: kind, handles: removed, display: false, side: "ours" } });
  }
}

/** What the device shows right now (expired typing bubbles left out). */
export async function deviceSignals(deps: CoreDeps, orgId: number, handle: string): Promise<DeviceSignal[]> {
  const now = deps.clock.now();
  const signals = await deps.store.read.deviceSignals.listForHandle(orgId, handle);
  return signals.filter((s) => s.expiresAt === null || s.expiresAt > now);
}
