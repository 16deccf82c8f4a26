import { normalizeExternalHandle } from "../../../core/handles.ts";
import type { HandleProfileRepository, SimulatorDeps } from "../ports.ts";
import { magicNumber } from "./magic-numbers.ts";
import { DEFAULT_PROFILE, type HandleProfile, type HandleProfileSettings, type StoredHandleProfile } from "./profile.ts";
import { checkProfile } from "./profile-input.ts";

/**
 * Profiles of simulated devices. Every external handle has one: stored settings if the org
 * saved some, else a magic number's, else the defaults (iMessage, reachable, no latency).
 */

export function settingsOf(profile: HandleProfileSettings): HandleProfileSettings {
  const { service, reachable, latencyMs, jitterMs, readAfterMs, autoReply, autoReaction } = profile;
  return { service, reachable, latencyMs, jitterMs, readAfterMs, autoReply, autoReaction };
}

export function resolveProfile(handle: string, stored: StoredHandleProfile | undefined): HandleProfile {
  const magic = magicNumber(handle);
  const settings = stored ? settingsOf(stored) : (magic?.settings ?? DEFAULT_PROFILE);
  return {
    handle,
    ...settingsOf(settings),
    stored: stored !== undefined,
    magic: magic?.name ?? null,
    scriptPosition: stored?.scriptPosition ?? 0,
    updatedAt: stored?.updatedAt ?? null,
  };
}

/** The profile in force for each handle. */
export async function effectiveProfiles(
  repos: { handleProfiles: HandleProfileRepository },
  orgId: number,
  handles: readonly string[],
): Promise<Map<string, HandleProfile>> {
  const stored = new Map((await repos.handleProfiles.findMany(orgId, handles)).map((p) => [p.handle, p]));
  return new Map(handles.map((handle) => [handle, resolveProfile(handle, stored.get(handle))]));
}

export async function getProfile(deps: SimulatorDeps, orgId: number, input: string): Promise<HandleProfile> {
  const repos = deps.simulator.read;
  const handle = await normalizeExternalHandle(repos, orgId, input, "handle");
  return resolveProfile(handle, await repos.handleProfiles.find(orgId, handle));
}

/** Profiles the org stored (PUT or seed file); every other handle has its defaults. */
export async function listStoredProfiles(deps: SimulatorDeps, orgId: number): Promise<HandleProfile[]> {
  const stored = await deps.simulator.read.handleProfiles.list(orgId);
  return stored.map((p) => resolveProfile(p.handle, p));
}

/** Changes the given settings and keeps the rest; the script starts over. */
export async function updateProfile(
  deps: SimulatorDeps,
  orgId: number,
  input: string,
  changes: Partial<HandleProfileSettings>,
): Promise<HandleProfile> {
  const handle = await normalizeExternalHandle(deps.store.read, orgId, input, "handle");
  const saved = await deps.simulator.transaction(async (tx) => {
    const current = resolveProfile(handle, await tx.handleProfiles.find(orgId, handle));
    const settings = { ...settingsOf(current), ...changes };
    checkProfile(handle, settings);
    return tx.handleProfiles.save(orgId, handle, settings, deps.clock.now());
  });
  deps.activity.publish({ orgId, kind: "profile", detail: { handle } });
  return resolveProfile(handle, saved);
}

/** Forgets the stored settings: the handle behaves as its magic number or the defaults again. */
export async function resetProfile(deps: SimulatorDeps, orgId: number, input: string): Promise<HandleProfile> {
  const handle = await normalizeExternalHandle(deps.store.read, orgId, input, "handle");
  await deps.simulator.transaction((tx) => tx.handleProfiles.delete(orgId, handle));
  deps.activity.publish({ orgId, kind: "profile", detail: { handle } });
  return resolveProfile(handle, undefined);
}
