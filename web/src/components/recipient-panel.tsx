import { useEffect, useState } from "preact/hooks";
import { api, type ChatHeader, type HandleProfile, type Session } from "../api.ts";
import { onActivity } from "../live.ts";

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
      {actingAs && <ProfileEditor handle={actingAs} onError={setError} onNotice={setNotice} />}
      {actingAs && (
        <section>
          <h4>Call</h4>
          <button
            type="button"
            class="secondary small"
            onClick={() =>
              void run(() => api.simulateCall({ from: actingAs, to: chat.phone_number }), "Call completed (call.completed)")
            }
          >
            Call {chat.participants.find((p) => p.is_me)?.display ?? chat.phone_number}
          </button>
        </section>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
    </aside>
  );
}

function ProfileEditor(props: { handle: string; onError: (m: string | null) => void; onNotice: (m: string | null) => void }) {
  const [profile, setProfile] = useState<HandleProfile | null>(null);
  const [draft, setDraft] = useState<{ service: string; reachable: boolean; auto_reply: string }>({
    service: "iMessage",
    reachable: true,
    auto_reply: "",
  });
  const [saving, setSaving] = useState(false);

  const load = () =>
    api.handleProfile(props.handle).then(
      (p) => {
        setProfile(p);
        setDraft({ service: String(p.service ?? "iMessage"), reachable: p.reachable !== false, auto_reply: p.auto_reply ?? "" });
      },
      (e: Error) => props.onError(e.message),
    );
  useEffect(() => {
    setProfile(null);
    void load();
    return onActivity((a) => {
      if (a.kind === "profile" || a.kind === "resync") void load();
    });
  }, [props.handle]);

  return (
    <section>
      <h4>Profile of {props.handle}</h4>
      {!profile ? (
        <p class="muted small">Loading…</p>
      ) : (
        <form
          class="profile-form"
          onSubmit={(e) => {
            e.preventDefault();
            setSaving(true);
            props.onError(null);
            api
              .updateHandleProfile(props.handle, {
                service: draft.service,
                reachable: draft.reachable,
                auto_reply: draft.auto_reply.trim() ? draft.auto_reply.trim() : null,
              })
              .then(
                (p) => {
                  setProfile(p);
                  props.onNotice("Profile saved");
                },
                (err: Error) => props.onError(err.message),
              )
              .finally(() => setSaving(false));
          }}
        >
          <label class="field">
            <span>Service</span>
            <select value={draft.service} onChange={(e) => setDraft({ ...draft, service: e.currentTarget.value })}>
              <option value="iMessage">iMessage</option>
              <option value="RCS">RCS</option>
              <option value="SMS">SMS</option>
            </select>
          </label>
          <label class="check">
            <input
              type="checkbox"
              checked={draft.reachable}
              onChange={(e) => setDraft({ ...draft, reachable: e.currentTarget.checked })}
            />
            <span>Reachable (messages to this number are delivered)</span>
          </label>
          <label class="field">
            <span>Auto-reply</span>
            <input
              value={draft.auto_reply}
              placeholder="Off: leave empty"
              onInput={(e) => setDraft({ ...draft, auto_reply: e.currentTarget.value })}
            />
          </label>
          <button type="submit" class="secondary small" disabled={saving}>
            {saving ? "Saving…" : "Save profile"}
          </button>
        </form>
      )}
    </section>
  );
}
