import type { HandleProfileRepository } from "./ports.ts";
import { resolveProfile, settingsOf } from "./profiles/profiles.service.ts";

export interface PlannedReply {
  text: string;
  attachmentUrls: string[];
  delayMs: number;
}

/**
 * The reply the handle's device gives to a message of ours, if any. A script advances by
 * one reply per call and its position is stored in the same transaction that plans the
 * reply, so replies survive restarts, are never taken twice, and follow the order our
 * messages were sent in.
 */
export async function takeAutoReply(
  repos: { handleProfiles: HandleProfileRepository },
  orgId: number,
  handle: string,
  ourText: string,
  now: Date,
): Promise<PlannedReply | null> {
  const stored = await repos.handleProfiles.find(orgId, handle);
  const profile = resolveProfile(handle, stored);
  const { autoReply } = profile;
  if (autoReply.type === "none") return null;
  if (autoReply.type === "echo") {
    return ourText.trim() === "" ? null : { text: ourText, attachmentUrls: [], delayMs: autoReply.delayMs };
  }
  const count = autoReply.replies.length;
  const position = profile.scriptPosition;
  if (position >= count && !autoReply.loop) return null;
  // A magic number's script needs a row to remember its position.
  if (!stored) await repos.handleProfiles.save(orgId, handle, settingsOf(profile), now);
  await repos.handleProfiles.setScriptPosition(orgId, handle, position + 1, now);
  const next = autoReply.replies[position % count]!;
  return { text: next.text, attachmentUrls: next.attachmentUrls, delayMs: next.delayMs };
}
