import { useEffect, useRef, useState } from "preact/hooks";
import { api, type Session } from "../api.ts";
import { navigate } from "../router.ts";

/** Someone new writes to one of our numbers: the chat and message.received come from the simulator. */
export function NewChatDialog({ session, onClose }: { session: Session; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [from, setFrom] = useState("");
  const [to, setTo] = useState(session.phone_numbers[0]?.phone_number ?? "");
  const [text, setText] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    dialog.current?.showModal();
  }, []);

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const attachmentUrls = file ? [(await api.stageUpload(file)).url] : [];
      const result = await api.simulateInbound({
        from: from.trim(),
        to,
        ...(text ? { text } : {}),
        ...(attachmentUrls.length ? { attachment_urls: attachmentUrls } : {}),
      });
      const chatId = result.data.chat.id;
      onClose();
      navigate({ view: "chats", chatId });
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <dialog ref={dialog} class="dialog" onClose={onClose} aria-labelledby="new-chat-title">
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <h2 id="new-chat-title">New inbound chat</h2>
        <p class="muted small">A number we have never heard from writes to one of ours.</p>
        <label class="field">
          <span>From (their number)</span>
          <input
            required
            autoFocus
            value={from}
            onInput={(e) => setFrom(e.currentTarget.value)}
            placeholder="+15551234567"
            inputMode="tel"
          />
        </label>
        <label class="field">
          <span>To (our number)</span>
          <select value={to} onChange={(e) => setTo(e.currentTarget.value)}>
            {session.phone_numbers.map((n) => (
              <option value={n.phone_number}>{n.display}</option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Message</span>
          <textarea rows={3} value={text} onInput={(e) => setText(e.currentTarget.value)} placeholder="Hi! Is this the right number?" />
        </label>
        <label class="field">
          <span>Attachment (optional)</span>
          <input type="file" onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="dialog-actions">
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy || !from.trim() || (!text.trim() && !file)}>
            {busy ? "Sending…" : "Send to us"}
          </button>
        </div>
      </form>
    </dialog>
  );
}
