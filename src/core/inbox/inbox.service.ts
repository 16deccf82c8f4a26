import { loadChat, loadMessageDetails, withHandles } from "../chats/chat-loading.ts";
import { otherParticipants } from "../chats/chat-names.ts";
import type { DeviceSignal } from "../devices/device-signal.ts";
import { resolveOwnNumber } from "../chats/chats.service.ts";
import type { CoreDeps } from "../deps.ts";
import { DomainError, notFound } from "../errors.ts";
import type { ChatWithHandles, MessageDetails, Organization, PhoneNumber } from "../model.ts";
import type { Page } from "../ports.ts";

/**
 * What the web inbox reads that the V2 resources have no shape for: the org at a glance,
 * chats across all of our numbers with unread counts, and a whole thread in one call.
 * Read-only: watching the sandbox never changes it (opening a chat does not mark it read).
 */

export interface InboxSession {
  organization: Organization;
  phoneNumbers: PhoneNumber[];
}

export async function getInboxSession(deps: CoreDeps, orgId: number): Promise<InboxSession> {
  const organization = await deps.store.read.organizations.findById(orgId);
  if (!organization) throw new DomainError("unauthorized", "The token's organization no longer exists");
  return { organization, phoneNumbers: await deps.store.read.phoneNumbers.listByOrg(orgId) };
}

export interface InboxChat {
  chat: ChatWithHandles;
  unreadCount: number;
  lastMessage: MessageDetails | null;
}

export interface InboxChatQuery {
  /** One of our numbers; all of them when omitted. */
  phoneNumber?: string | undefined;
  search?: string | undefined;
  page: number;
  perPage: number;
}

export const MAX_SEARCH_LENGTH = 200;

export async function listInboxChats(deps: CoreDeps, orgId: number, query: InboxChatQuery): Promise<Page<InboxChat>> {
  const repos = deps.store.read;
  const search = query.search?.trim() ?? "";
  if (search.length > MAX_SEARCH_LENGTH) {
    throw new DomainError("validation_failed", `q must be at most ${MAX_SEARCH_LENGTH} characters`, { field: "q" });
  }
  const number = query.phoneNumber ? await resolveOwnNumber(repos, orgId, query.phoneNumber, "phoneNumber") : undefined;
  const page = await repos.inbox.listChatSummaries({
    orgId,
    ...(number ? { phoneNumberId: number.id } : {}),
    ...(search ? { search } : {}),
    limit: query.perPage,
    offset: (query.page - 1) * query.perPage,
  });
  const [chats, lastMessages] = await Promise.all([
    withHandles(
      repos,
      page.items.map((s) => s.chat),
    ),
    loadMessageDetails(
      repos,
      page.items.flatMap((s) => (s.lastMessage ? [s.lastMessage] : [])),
    ),
  ]);
  const lastById = new Map(lastMessages.map((m) => [m.message.id, m]));
  return {
    items: page.items.map((summary, i) => ({
      chat: chats[i]!,
      unreadCount: summary.unreadCount,
      lastMessage: summary.lastMessage ? (lastById.get(summary.lastMessage.id) ?? null) : null,
    })),
    total: page.total,
  };
}

/** A thread page: oldest first, as a phone shows it. */
export interface InboxThread {
  chat: ChatWithHandles;
  messages: MessageDetails[];
  /** True when messages older than the first one exist (ask again with `beforeId`). */
  hasOlder: boolean;
  /** Who is typing right now (first page only): participants to us, or our bubble on their screens. */
  typing: { handle: string; isMe: boolean }[];
}

export const MAX_THREAD_PAGE = 1000;

export async function getInboxThread(
  deps: CoreDeps,
  orgId: number,
  chatId: number,
  options: { limit: number; beforeId?: number | undefined },
): Promise<InboxThread> {
  const repos = deps.store.read;
  const chat = await loadChat(repos, orgId, chatId);
  let before: { sentAt: Date; id: number } | undefined;
  if (options.beforeId !== undefined) {
    const anchor = await repos.messages.findById(orgId, options.beforeId);
    if (!anchor || anchor.chatId !== chatId) throw notFound("message_not_found", "before_id: message not found in this chat");
    before = { sentAt: anchor.sentAt, id: anchor.id };
  }
  // One extra row answers "are there older ones?" without a count.
  const newestFirst = await repos.inbox.listThreadPage(chatId, options.limit + 1, before);
  const hasOlder = newestFirst.length > options.limit;
  const page = newestFirst.slice(0, options.limit).reverse();
  const [messages, typing] = await Promise.all([
    loadMessageDetails(repos, page),
    options.beforeId === undefined ? currentTyping(deps, chat) : Promise.resolve([]),
  ]);
  return { chat, messages, hasOlder, typing };
}

/** Typing indicators showing now, so a page opened mid-typing shows the dots too. */
async function currentTyping(deps: CoreDeps, chat: ChatWithHandles): Promise<InboxThread["typing"]> {
  const repos = deps.store.read;
  const now = deps.clock.now();
  const showing = (signal: DeviceSignal | undefined) => signal !== undefined && (signal.expiresAt === null || signal.expiresAt > now);
  const others = otherParticipants(chat);
  const [theirs, ours] = await Promise.all([
    Promise.all(others.map((h) => repos.deviceSignals.find(chat.chat.id, h.handle, "their_typing"))),
    Promise.all(others.map((h) => repos.deviceSignals.find(chat.chat.id, h.handle, "our_typing"))),
  ]);
  const typing = others.filter((_, i) => showing(theirs[i])).map((h) => ({ handle: h.handle, isMe: false }));
  if (ours.some(showing)) typing.push({ handle: chat.phoneNumber, isMe: true });
  return typing;
}
