import { useEffect, useState } from "preact/hooks";
import { api, type ChatHeader, type HandleProfile, type HandleProfileChanges, type ReactionType, type Session } from "../api.ts";
import { REACTIONS } from "../format.ts";
import { onActivity } from "../live.ts";
import { Feedback } from "./feedback.tsx";

/** The recipients' side of a chat: who is in it, how the simulator plays them, a call. */
export function RecipientPanel(props: {
  chat: ChatHeader;
  session: Session;
  actingAs: string | null;
  onActAs: (handle: string) => void;
  onClose: () => void;
}) {
  const { chat, actingAs } = props;
  const [newMember, setNewMember] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const members = chat.participants.filter((p) => !p.is_me);

  const run = async (action: () => Promise<unknown>, done: string) => {
    setError(null);
    setNotice(null);
    try {
      await action();
      setNotice(done);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <aside class="recipient-panel" aria-label="Recipient tools">
      <div class="panel-head">
        <h3>Recipients</h3>
        <button type="button" class="link-button" onClick={props.onClose} aria-label="Close recipient tools">
          ✕
        </button>
      </div>
      <section>
        <h4>Participants</h4>
        <ul class="member-list">
          {members.map((p) => (
            <li class={p.left_at ? "left" : ""}>
              <label>
                <input
                  type="radio"
                  name="acting-as"
                  checked={p.handle === actingAs}
                  disabled={Boolean(p.left_at)}
                  onChange={() => props.onActAs(p.handle)}
                />
                <span>
                  {p.display}
                  {p.left_at && <span class="muted small"> · left</span>}
                </span>
              </label>
              {!p.left_at && (
                <button
                  type="button"
                  class="link-button danger"
                  onClick={() =>
                    void run(() => api.simulateParticipants({ chat_id: chat.id, remove: [p.handle] }), `${p.display} left the chat`)
                  }
                >
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            const handle = newMember.trim();
            if (!handle) return;
            void run(async () => {
              await api.simulateParticipants({ chat_id: chat.id, add: [handle] });
              setNewMember("");
            }, `${handle} joined the chat`);
          }}
        >
          <input
            value={newMember}
            onInput={(e) => setNewMember(e.currentTarget.value)}
            placeholder="+15550001111"
            aria-label="Number to add"
          />
          <button type="submit" class="secondary small" disabled={!newMember.trim()}>
            Add
          </button>
        </form>
      </section>
      {actingAs && (
        <ProfileEditor
          handle={actingAs}
          display={members.find((p) => p.handle === actingAs)?.display ?? actingAs}
          onError={setError}
          onNotice={setNotice}
        />
      )}
      {actingAs && (
        <section>
          <h4>Call</h4>
          <button
            type="button"
            class="secondary small"
            onClick={() =>
              void run(
                () => api.simulateCall({ from: actingAs, to: chat.phone_number, duration_seconds: 42 }),
                "A 42-second call ended (call.completed)",
              )
            }
          >
            Call {chat.participants.find((p) => p.is_me)?.display ?? chat.phone_number}
          </button>
        </section>
      )}
      <Feedback error={error} notice={notice} />
    </aside>
  );
}

interface ProfileDraft {
  service: string;
  reachable: boolean;
  replyMode: "none" | "echo" | "script";
  /** One scripted reply per line. */
  script: string;
  loop: boolean;
  /** Seconds after delivery until they read; empty: never (no read receipts). */
  readAfter: string;
  autoReaction: string;
}

function draftOf(profile: HandleProfile): ProfileDraft {
  const reply = profile.auto_reply;
  return {
    service: profile.service,
    reachable: profile.reachable,
    replyMode: reply.type,
    script: reply.type === "script" ? reply.replies.map((r) => r.text).join("\n") : "",
    loop: reply.type === "script" ? reply.loop : false,
    readAfter: profile.read_after_ms === null ? "" : String(profile.read_after_ms / 1000),
    autoReaction: profile.auto_reaction?.type ?? "",
  };
}

function changesOf(draft: ProfileDraft): HandleProfileChanges {
  const seconds = draft.readAfter.trim() === "" ? null : Math.max(0, Math.round(Number(draft.readAfter) * 1000));
  return {
    service: draft.service,
    reachable: draft.reachable,
    auto_reply:
      draft.replyMode === "script"
        ? {
            type: "script",
            loop: draft.loop,
            replies: draft.script
              .split("\n")
              .map((line) => line.trim())
              .filter(Boolean)
              .map((text) => ({ text, delay_ms: 1000 })),
          }
        : draft.replyMode === "echo"
          ? { type: "echo", delay_ms: 1000 }
          : { type: "none" },
    read_after_ms: seconds === null || Number.isNaN(seconds) ? null : seconds,
    auto_reaction: draft.autoReaction ? { type: draft.autoReaction as ReactionType, delay_ms: 1000 } : null,
  };
}

/** How the simulator plays this handle when we write to it. */
function ProfileEditor(props: { handle: string; display: string; onError: (m: string | null) => void; onNotice: (m: string | null) => void }) {
  const [profile, setProfile] = useState<HandleProfile | null>(null);
  const [draft, setDraft] = useState<ProfileDraft | null>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    setProfile(null);
    const load = () =>
      api.handleProfile(props.handle).then(
        (p) => {
          setProfile(p);
          setDraft(draftOf(p));
        },
        (e: Error) => props.onError(e.message),
      );
    void load();
    return onActivity((a) => {
      if ((a.kind === "profile" && a.detail?.handle === props.handle) || a.kind === "resync") void load();
    });
  }, [props.handle]);

  if (!profile || !draft) {
    return (
      <section>
        <h4>Profile</h4>
        <p class="muted small">Loading…</p>
      </section>
    );
  }
  const set = (changes: Partial<ProfileDraft>) => setDraft({ ...draft, ...changes });
  return (
    <section>
      <h4>How {props.display} behaves</h4>
      {profile.magic && <p class="muted small">Magic number: {profile.magic}</p>}
      <form
        class="profile-form"
        onSubmit={(e) => {
          e.preventDefault();
          setSaving(true);
          props.onError(null);
          api
            .updateHandleProfile(props.handle, changesOf(draft))
            .then(
              (p) => {
                setProfile(p);
                setDraft(draftOf(p));
                props.onNotice("Profile saved: it applies to the next messages we send");
              },
              (err: Error) => props.onError(err.message),
            )
            .finally(() => setSaving(false));
        }}
      >
        <label class="field">
          <span>Service their phone speaks</span>
          <select value={draft.service} onChange={(e) => set({ service: e.currentTarget.value })}>
            <option value="iMessage">iMessage</option>
            <option value="RCS">RCS</option>
            <option value="SMS">SMS</option>
          </select>
        </label>
        <label class="check">
          <input type="checkbox" checked={draft.reachable} onChange={(e) => set({ reachable: e.currentTarget.checked })} />
          <span>Reachable (off: our messages fail)</span>
        </label>
        <label class="field">
          <span>Auto-reply</span>
          <select
            value={draft.replyMode}
            onChange={(e) => set({ replyMode: e.currentTarget.value as ProfileDraft["replyMode"] })}
          >
            <option value="none">None</option>
            <option value="echo">Echo our text back</option>
            <option value="script">Scripted replies</option>
          </select>
        </label>
        {draft.replyMode === "script" && (
          <>
            <label class="field">
              <span>Replies, one per line (the n-th message we send gets the n-th)</span>
              <textarea rows={3} value={draft.script} onInput={(e) => set({ script: e.currentTarget.value })} />
            </label>
            <label class="check small">
              <input type="checkbox" checked={draft.loop} onChange={(e) => set({ loop: e.currentTarget.checked })} />
              <span>Start over after the last</span>
            </label>
          </>
        )}
        <label class="field">
          <span>Reads our messages after (seconds; empty: never)</span>
          <input inputMode="decimal" value={draft.readAfter} onInput={(e) => set({ readAfter: e.currentTarget.value })} />
        </label>
        <label class="field">
          <span>Tapback on each of our messages</span>
          <select value={draft.autoReaction} onChange={(e) => set({ autoReaction: e.currentTarget.value })}>
            <option value="">None</option>
            {REACTIONS.map((r) => (
              <option value={r.type}>{r.label}</option>
            ))}
          </select>
        </label>
        <button type="submit" class="secondary small" disabled={saving}>
          {saving ? "Saving…" : "Save profile"}
        </button>
      </form>
    </section>
  );
}
