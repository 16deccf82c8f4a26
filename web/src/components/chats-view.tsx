import { useEffect, useState } from "preact/hooks";
import { api, type ChatSummary, type Session } from "../api.ts";
import { listTime, initials } from "../format.ts";
import { useActivityRefresh, useLatestRequest } from "../hooks.ts";
import { hrefFor } from "../router.ts";
import { useTyping } from "../typing.ts";
import { NewChatDialog } from "./new-chat.tsx";
import { ThreadView } from "./thread.tsx";

export function ChatsView({ session, chatId }: { session: Session; chatId: number | null }) {
  return (
    <div class={`chats ${chatId ? "has-thread" : ""}`}>
      <ChatList session={session} selectedId={chatId} />
      {chatId ? (
        <ThreadView key={chatId} session={session} chatId={chatId} />
      ) : (
        <section class="thread thread-empty" aria-label="Conversation">
          <div class="empty-state">
            <div class="empty-bubble" aria-hidden="true" />
            <h2>Pick a conversation</h2>
            <p class="muted">
              Messages sent through the API show up here the moment they are accepted. Replies, tapbacks and typing
              you do here reach your webhooks exactly as a real recipient's would.
            </p>
          </div>
        </section>
      )}
    </div>
  );
}

export function ServiceBadge({ service }: { service: string }) {
  return <span class={`service service-${service.toLowerCase()}`}>{service}</span>;
}

function ChatList({ session, selectedId }: { session: Session; selectedId: number | null }) {
  const [number, setNumber] = useState("");
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  const [chats, setChats] = useState<ChatSummary[] | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [composing, setComposing] = useState(false);
  const latest = useLatestRequest();

  const load = () =>
    latest(
      api.chats({ phone_number: number || undefined, q: query || undefined, per_page: 100 }),
      (page) => {
        setChats(page.data);
        setTotal(page.meta.total_count);
        setError(null);
      },
      (e) => setError(e instanceof Error ? e.message : String(e)),
    );

  useEffect(() => {
    const timer = setTimeout(() => setQuery(search.trim()), 200);
    return () => clearTimeout(timer);
  }, [search]);
  useEffect(load, [number, query]);
  useActivityRefresh((a) => a.kind === "message" || a.kind === "chat", load);

  const multipleNumbers = session.phone_numbers.length > 1;
  return (
    <aside class="sidebar" aria-label="Conversations">
      <div class="sidebar-head">
        <div class="sidebar-title">
          <h1>Chats</h1>
          <button type="button" class="primary small" onClick={() => setComposing(true)} title="A new number writes to one of yours">
            New inbound chat
          </button>
        </div>
        {multipleNumbers && (
          <select
            aria-label="Our number"
            value={number}
            onChange={(e) => setNumber(e.currentTarget.value)}
            class="number-filter"
          >
            <option value="">All our numbers</option>
            {session.phone_numbers.map((n) => (
              <option value={n.phone_number}>{n.display}</option>
            ))}
          </select>
        )}
        <input
          type="search"
          class="search"
          placeholder="Search names, numbers, messages"
          aria-label="Search chats"
          value={search}
          onInput={(e) => setSearch(e.currentTarget.value)}
        />
        {!multipleNumbers && session.phone_numbers[0] && (
          <p class="muted small our-number">Our number {session.phone_numbers[0].display}</p>
        )}
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <ul class="chat-list">
        {chats?.map((chat) => (
          <ChatRow chat={chat} selected={chat.id === selectedId} showNumber={multipleNumbers && !number} />
        ))}
      </ul>
      {chats && chats.length === 0 && (
        <p class="muted list-empty">
          {query ? `Nothing matches “${query}”.` : "No chats yet. Send a message through the API or start an inbound chat."}
        </p>
      )}
      {chats && total > chats.length && <p class="muted small list-empty">Showing the newest {chats.length} of {total}.</p>}
      {composing && <NewChatDialog session={session} onClose={() => setComposing(false)} />}
    </aside>
  );
}

function ChatRow({ chat, selected, showNumber }: { chat: ChatSummary; selected: boolean; showNumber: boolean }) {
  const typists = useTyping(chat.id).filter((t) => !t.isMe);
  const last = chat.last_message;
  const sender = last && !last.is_from_me && chat.group ? chat.participants.find((p) => p.handle === last.sender) : undefined;
  const preview = last
    ? `${last.is_from_me ? "You: " : sender ? `${sender.display}: ` : ""}${
        last.text || (last.attachments.length ? `📎 ${last.attachments[0]!.filename}` : "")
      }`
    : "No messages";
  return (
    <li>
      <a
        class={`chat-row ${selected ? "selected" : ""} ${chat.unread_count ? "unread" : ""}`}
        href={hrefFor({ view: "chats", chatId: chat.id })}
        aria-current={selected ? "true" : undefined}
        data-chat-id={chat.id}
      >
        <span class={`avatar ${chat.group ? "avatar-group" : ""}`} aria-hidden="true">
          {chat.group ? "👥" : initials(chat.display_name)}
        </span>
        <span class="chat-row-main">
          <span class="chat-row-top">
            <span class="chat-name">{chat.display_name}</span>
            <time class="chat-time" dateTime={last?.sent_at ?? chat.last_activity_at}>
              {listTime(last?.sent_at ?? chat.last_activity_at)}
            </time>
          </span>
          <span class="chat-row-bottom">
            <span class="chat-preview">{typists.length ? <em class="typing-text">typing…</em> : preview}</span>
            {chat.unread_count > 0 && (
              <span class="unread-count" aria-label={`${chat.unread_count} unread`}>
                {chat.unread_count}
              </span>
            )}
          </span>
          <span class="chat-row-meta">
            <ServiceBadge service={chat.service} />
            {chat.group && <span class="pill">Group · {chat.participants.filter((p) => !p.is_me && !p.left_at).length}</span>}
            {showNumber && <span class="muted small">to {chat.phone_number}</span>}
          </span>
        </span>
      </a>
    </li>
  );
}
