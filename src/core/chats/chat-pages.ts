import type { CoreDeps } from "../deps.ts";
import { normalizeHandle } from "../handles.ts";
import type { ChatWithHandles, MessageDetails } from "../model.ts";
import { loadMessageDetails, withHandles } from "./chat-loading.ts";
import { resolveOwnNumber } from "./chats.service.ts";

/** Where a page starts: right after the item with this sort key. */
export interface PageAfter {
  at: Date;
  id: number;
}

export interface ChatPageQuery {
  /** Only chats of this number of ours (all of the org's numbers when omitted). */
  phoneNumber?: string | undefined;
  /** Only chats this handle takes part in. */
  participant?: string | undefined;
  after?: PageAfter | undefined;
  limit: number;
}

/**
 * The org's chats, most recent activity first, keyset-paged. A chat that gets new activity
 * while a client pages moves to the front, so it is not repeated on later pages.
 */
export async function listChatPage(
  deps: CoreDeps,
  orgId: number,
  query: ChatPageQuery,
): Promise<{ items: ChatWithHandles[]; next: PageAfter | null }> {
  const repos = deps.store.read;
  const number = query.phoneNumber === undefined ? undefined : await resolveOwnNumber(repos, orgId, query.phoneNumber, "sender");
  const participant = query.participant === undefined ? undefined : normalizeHandle(query.participant, "participant");
  const chats = await repos.chats.listPage({
    orgId,
    phoneNumberId: number?.id,
    participant,
    after: query.after,
    limit: query.limit + 1,
  });
  const page = chats.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: await withHandles(repos, page),
    next: chats.length > query.limit && last ? { at: last.lastActivityAt, id: last.id } : null,
  };
}

/** A chat's messages, newest first, keyset-paged on (sent time, id); `chat` as the caller loaded it for the org. */
export async function listMessagePage(
  deps: CoreDeps,
  chat: ChatWithHandles,
  query: { after?: PageAfter | undefined; limit: number },
): Promise<{ items: MessageDetails[]; next: PageAfter | null }> {
  const repos = deps.store.read;
  const before = query.after ? { sentAt: query.after.at, id: query.after.id } : undefined;
  const messages = await repos.inbox.listThreadPage(chat.chat.id, query.limit + 1, before);
  const page = messages.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: await loadMessageDetails(repos, page, chat.handles),
    next: messages.length > query.limit && last ? { at: last.sentAt, id: last.id } : null,
  };
}
