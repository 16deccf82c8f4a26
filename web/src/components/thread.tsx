import type { JSX } from "preact";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, api, type Message, type Participant, type ReactionType, type Session, type Thread } from "../api.ts";
import { dayKey, dayLabel, initials } from "../format.ts";
import { useActivityRefresh, useLatestRequest } from "../hooks.ts";
import { onActivity } from "../live.ts";
import { hrefFor } from "../router.ts";
import { seedTyping, useTyping } from "../typing.ts";
import { Bubble } from "./bubble.tsx";
import { ServiceBadge } from "./chats-view.tsx";
import { Composer } from "./composer.tsx";
import { RecipientPanel } from "./recipient-panel.tsx";

/** Messages in (sent_at, id) order, the server's thread order. */
function compareMessages(a: Message, b: Message): number {
  return a.sent_at < b.sent_at ? -1 : a.sent_at > b.sent_at ? 1 : a.id - b.id;
}

function upsert(messages: Message[], message: Message): Message[] {
  const index = messages.findIndex((m) => m.id === message.id);
  if (index >= 0) {
    const copy = messages.slice();
    copy[index] = message;
    return copy;
  }
  const last = messages[messages.length - 1];
  if (!last || compareMessages(last, message) < 0) return [...messages, message];
  return [...messages, message].sort(compareMessages);
}

/**
 * Newest messages drawn in the first frame; older ones follow in chunks on the next frames,
 * so a long thread shows its end at once and never blocks the page for long.
 */
const FIRST_PAINT = 100;
const CHUNK = 300;

/** Someone still in the chat other than us: who the person at the keyboard can act as. */
export const activeRecipients = (participants: Participant[]) => participants.filter((p) => !p.is_me && !p.left_at);

export function ThreadView({ session, chatId }: { session: Session; chatId: number }) {
  const [thread, setThread] = useState<Thread | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [actingAs, setActingAs] = useState<string | null>(null);
  const [picker, setPicker] = useState<{ id: number; below: boolean } | null>(null);
  const pickerFor = picker?.id ?? null;
  const openPicker = useCallback((id: number | null, below = false) => setPicker(id === null ? null : { id, below }), []);
  // An open picker closes on Escape (focus goes back to its button) and on a press anywhere
  // outside it, as a menu does; its own button toggles it.
  useEffect(() => {
    if (pickerFor === null) return;
    const onPointerDown = (e: PointerEvent) => {
      if (!(e.target instanceof Element) || !e.target.closest(".tapback-picker, .react-button")) setPicker(null);
    };
    const onKeyDown = (e: KeyboardEvent) => {
      if (e.key !== "Escape") return;
      setPicker(null);
      document.querySelector<HTMLButtonElement>(`.row[data-message-id="${pickerFor}"] .react-button`)?.focus();
    };
    document.addEventListener("pointerdown", onPointerDown, true);
    document.addEventListener("keydown", onKeyDown);
    return () => {
      document.removeEventListener("pointerdown", onPointerDown, true);
      document.removeEventListener("keydown", onKeyDown);
    };
  }, [pickerFor]);
  const [panelOpen, setPanelOpen] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [drawn, setDrawn] = useState(FIRST_PAINT);
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const keepOffsetFromBottom = useRef<number | null>(null);
  const latest = useLatestRequest();
  const typists = useTyping(chatId);

  const load = () =>
    latest(
      api.thread(chatId),
      (t) => {
        performance.mark("inbox:thread-fetched");
        seedTyping(chatId, t.typing);
        setThread((previous) => {
          // A reload keeps older pages the person already scrolled to.
          if (!previous || !previous.has_older || previous.messages.length <= t.messages.length) return t;
          const known = new Set(t.messages.map((m) => m.id));
          const older = previous.messages.filter((m) => !known.has(m.id) && compareMessages(m, t.messages[0]!) < 0);
          return { ...t, messages: [...older, ...t.messages], has_older: previous.has_older };
        });
        setError(null);
      },
      (e) => setError(e instanceof ApiError && e.status === 404 ? "This chat does not exist (any more)." : String((e as Error).message ?? e)),
    );

  useEffect(load, [chatId]);
  useActivityRefresh((a) => a.chat_id === chatId && a.kind === "chat", load);

  // A changed message is fetched alone: a thousand-message thread is not reloaded per tapback.
  useEffect(
    () =>
      onActivity((activity) => {
        if (activity.kind !== "message" || activity.chat_id !== chatId || activity.message_id === null) return;
        const id = activity.message_id;
        api.message(chatId, id).then(
          (message) => setThread((t) => (t ? { ...t, messages: upsert(t.messages, message) } : t)),
          (e: unknown) => {
            if (e instanceof ApiError && e.status === 404) {
              setThread((t) => (t ? { ...t, messages: t.messages.filter((m) => m.id !== id) } : t));
            }
          },
        );
      }),
    [chatId],
  );

  const recipients = useMemo(() => (thread ? activeRecipients(thread.chat.participants) : []), [thread?.chat]);
  useEffect(() => {
    if (recipients.length && !recipients.some((p) => p.handle === actingAs)) setActingAs(recipients[0]!.handle);
  }, [recipients]);

  const names = useMemo(() => {
    const map = new Map<string, string>();
    for (const p of thread?.chat.participants ?? []) map.set(p.handle, p.is_me ? "You" : p.display);
    return map;
  }, [thread?.chat]);
  const nameOf = useCallback((handle: string) => names.get(handle) ?? handle, [names]);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    // The benchmark (bench/inbox.bench.ts) reads these marks: fetched → on screen.
    if (thread && performance.getEntriesByName("inbox:thread-rendered").length === 0) performance.mark("inbox:thread-rendered");
    if (keepOffsetFromBottom.current !== null) {
      el.scrollTop = el.scrollHeight - keepOffsetFromBottom.current;
      keepOffsetFromBottom.current = null;
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [thread?.messages, typists.length, drawn]);

  // Images arrive after the scroll to the bottom and push it up; follow them while at the bottom.
  // (load does not bubble, but it can be captured.)
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const follow = () => {
      if (atBottom.current) el.scrollTop = el.scrollHeight;
    };
    el.addEventListener("load", follow, true);
    return () => el.removeEventListener("load", follow, true);
  }, [thread !== null]);

  const total = thread?.messages.length ?? 0;
  useEffect(() => {
    if (drawn >= total) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const frame = requestAnimationFrame(() => {
      // After this frame is painted: keep what is on screen where it is while rows arrive above.
      timer = setTimeout(() => {
        const el = scroller.current;
        if (el) keepOffsetFromBottom.current = el.scrollHeight - el.scrollTop;
        setDrawn((n) => n + CHUNK);
      }, 0);
    });
    return () => {
      cancelAnimationFrame(frame);
      clearTimeout(timer);
    };
  }, [drawn, total]);

  const onReact = useCallback(
    (message: Message, reaction: ReactionType, remove: boolean) => {
      if (!actingAs) return;
      setPicker(null);
      setActionError(null);
      api
        .simulateReaction({ chat_message_id: message.id, from: actingAs, type: reaction, operation: remove ? "remove" : "add" })
        .catch((e: Error) => setActionError(e.message));
    },
    [actingAs, chatId],
  );

  const loadOlder = () => {
    const first = thread?.messages[0];
    const el = scroller.current;
    if (!first || !el) return;
    setLoadingOlder(true);
    api
      .thread(chatId, { before_id: first.id, limit: 500 })
      .then((older) => {
        keepOffsetFromBottom.current = el.scrollHeight - el.scrollTop;
        setThread((t) => (t ? { ...t, messages: [...older.messages, ...t.messages], has_older: older.has_older } : t));
      })
      .catch((e: Error) => setActionError(e.message))
      .finally(() => setLoadingOlder(false));
  };

  if (error) {
    return (
      <section class="thread" aria-label="Conversation">
        <ThreadBack />
        <p class="error thread-error" role="alert">
          {error}
        </p>
      </section>
    );
  }
  if (!thread) {
    return (
      <section class="thread" aria-label="Conversation" aria-busy="true">
        <ThreadBack />
        <p class="muted thread-loading">Loading…</p>
      </section>
    );
  }

  const { chat } = thread;
  const messages = thread.messages.length > drawn ? thread.messages.slice(-drawn) : thread.messages;
  const allDrawn = messages === thread.messages;
  const serviceClass = `svc-${chat.service.toLowerCase()}`;
  const lastOutbound = [...messages].reverse().find((m) => m.is_from_me)?.id;
  const actingLabel = actingAs ? nameOf(actingAs) : null;
  const others = chat.participants.filter((p) => !p.is_me && !p.left_at);
  const ourNumber = chat.participants.find((p) => p.is_me)?.display ?? chat.phone_number;

  const items: JSX.Element[] = [];
  let previous: Message | undefined;
  messages.forEach((message, i) => {
    const next = messages[i + 1];
    if (!previous || dayKey(previous.sent_at) !== dayKey(message.sent_at)) {
      items.push(
        <div class="day-separator" key={`day-${message.id}`}>
          {dayLabel(message.sent_at)}
        </div>,
      );
    }
    const newRun = !previous || previous.sender !== message.sender || dayKey(previous.sent_at) !== dayKey(message.sent_at);
    const endsRun = !next || next.sender !== message.sender || dayKey(next.sent_at) !== dayKey(message.sent_at);
    const acting = actingAs
      ? message.reactions.filter((r) => !r.is_from_me && r.from_phone === actingAs).map((r) => r.reaction)
      : [];
    items.push(
      <Bubble
        key={message.id}
        message={message}
        serviceClass={serviceClass}
        senderLabel={chat.group && !message.is_from_me && newRun ? nameOf(message.sender) : null}
        tail={endsRun}
        showStatus={message.is_from_me && (message.id === lastOutbound || message.delivery_status !== "delivered")}
        nameOf={nameOf}
        pickerOpen={pickerFor === message.id}
        pickerBelow={pickerFor === message.id && Boolean(picker?.below)}
        actingReactions={acting.length ? acting : NONE}
        actingLabel={actingLabel}
        onOpenPicker={openPicker}
        onReact={onReact}
      />,
    );
    previous = message;
  });

  return (
    <section class={`thread ${panelOpen ? "panel-open" : ""}`} aria-label={`Conversation with ${chat.display_name}`}>
      <header class="thread-head">
        <ThreadBack />
        <span class={`avatar ${chat.group ? "avatar-group" : ""}`} aria-hidden="true">
          {chat.group ? "👥" : initials(chat.display_name)}
        </span>
        <div class="thread-title">
          <h2>{chat.display_name}</h2>
          <div class="thread-sub">
            <ServiceBadge service={chat.service} />
            {chat.group && <span>{others.map((p) => p.display).join(", ")}</span>}
            <span class="muted">via {ourNumber}</span>
          </div>
        </div>
        <button
          type="button"
          class={`secondary ${panelOpen ? "pressed" : ""}`}
          aria-expanded={panelOpen}
          onClick={() => setPanelOpen(!panelOpen)}
        >
          Recipient
        </button>
      </header>
      <div class="thread-body">
        <div
          class="messages"
          ref={scroller}
          onScroll={(e) => {
            const el = e.currentTarget;
            atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
          }}
        >
          {thread.has_older && allDrawn && (
            <button type="button" class="link-button load-older" onClick={loadOlder} disabled={loadingOlder}>
              {loadingOlder ? "Loading…" : "Load earlier messages"}
            </button>
          )}
          {messages.length === 0 && <p class="muted center">No messages in this chat.</p>}
          {items}
          {typists.map((t) => (
            <div class={`row row-${t.isMe ? "out" : "in"} row-tail`} key={`typing-${t.handle}`}>
              {chat.group && !t.isMe && <div class="sender-label">{nameOf(t.handle)}</div>}
              <div class={`bubble bubble-${t.isMe ? "out" : "in"} typing-bubble ${t.isMe ? serviceClass : ""}`}
                aria-label={`${t.isMe ? "You are" : `${nameOf(t.handle)} is`} typing`}>
                <span class="dot" />
                <span class="dot" />
                <span class="dot" />
              </div>
            </div>
          ))}
        </div>
        {panelOpen && (
          <RecipientPanel
            chat={chat}
            actingAs={actingAs}
            onActAs={setActingAs}
            onClose={() => setPanelOpen(false)}
            session={session}
          />
        )}
      </div>
      {actionError && (
        <p class="error action-error" role="alert">
          {actionError}
          <button type="button" class="link-button" onClick={() => setActionError(null)} aria-label="Dismiss">
            ✕
          </button>
        </p>
      )}
      <Composer
        chat={chat}
        actingAs={actingAs}
        recipients={recipients}
        onActAs={setActingAs}
        typing={typists.some((t) => !t.isMe && t.handle === actingAs)}
        onError={setActionError}
        onSent={() => {
          atBottom.current = true;
        }}
      />
    </section>
  );
}

const NONE: ReactionType[] = [];

function ThreadBack() {
  return (
    <a class="back" href={hrefFor({ view: "chats", chatId: null })} aria-label="Back to chats">
      ‹ Chats
    </a>
  );
}
