import { useRef, useState } from "preact/hooks";
import { api, type ChatHeader, type Participant } from "../api.ts";
import { bytes } from "../format.ts";

/**
 * Writes as the other party: every action goes through the simulator, so webhooks fire
 * exactly as they would for a real recipient.
 */
export function Composer(props: {
  chat: ChatHeader;
  actingAs: string | null;
  recipients: Participant[];
  onActAs: (handle: string) => void;
  typing: boolean;
  onError: (message: string | null) => void;
  onSent: () => void;
}) {
  const { chat, actingAs, recipients } = props;
  const [text, setText] = useState("");
  const [files, setFiles] = useState<File[]>([]);
  const [sending, setSending] = useState(false);
  const [typingBusy, setTypingBusy] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const acting = recipients.find((p) => p.handle === actingAs);

  if (!acting) {
    return (
      <div class="composer composer-disabled">
        <p class="muted small">Nobody else is left in this chat: add a participant to act as one.</p>
      </div>
    );
  }

  const send = async () => {
    if (sending || (!text.trim() && files.length === 0)) return;
    setSending(true);
    props.onError(null);
    try {
      // Files travel as URLs, as with a carrier: staged here first, then fetched by the sandbox.
      const attachmentUrls = await Promise.all(files.map(async (file) => (await api.stageUpload(file)).url));
      await api.simulateInbound({
        from: acting.handle,
        chat_id: chat.id,
        ...(text ? { text } : {}),
        ...(attachmentUrls.length ? { attachment_urls: attachmentUrls } : {}),
      });
      setText("");
      setFiles([]);
      props.onSent();
    } catch (e) {
      props.onError((e as Error).message);
    } finally {
      setSending(false);
    }
  };

  const toggleTyping = async () => {
    setTypingBusy(true);
    props.onError(null);
    try {
      await api.simulateTyping({ chat_id: chat.id, from: acting.handle, state: props.typing ? "stopped" : "started" });
    } catch (e) {
      props.onError((e as Error).message);
    } finally {
      setTypingBusy(false);
    }
  };

  const markRead = async () => {
    props.onError(null);
    try {
      const result = await api.simulateRead({ chat_id: chat.id, from: acting.handle });
      if (result.data.messages.length === 0) props.onError("Nothing to mark read: every delivered message of ours is read already.");
    } catch (e) {
      props.onError((e as Error).message);
    }
  };

  return (
    <form
      class="composer"
      aria-label={`Reply as ${acting.display}`}
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <div class="composer-tools">
        <label class="acting-as">
          <span>As</span>
          {recipients.length > 1 ? (
            <select value={acting.handle} onChange={(e) => props.onActAs(e.currentTarget.value)} aria-label="Act as">
              {recipients.map((p) => (
                <option value={p.handle}>{p.display}</option>
              ))}
            </select>
          ) : (
            <strong>{acting.display}</strong>
          )}
        </label>
        <span class="tool-buttons">
          <button
            type="button"
            class={`chip ${props.typing ? "pressed" : ""}`}
            aria-pressed={props.typing}
            disabled={typingBusy}
            onClick={() => void toggleTyping()}
            title="Show or remove the recipient's typing indicator (typing_indicator.* webhooks)"
          >
            {props.typing ? "Stop typing" : "Start typing"}
          </button>
          <button
            type="button"
            class="chip"
            onClick={() => void markRead()}
            title="The recipient reads our messages (read receipts, message.read webhooks)"
          >
            Mark read
          </button>
        </span>
      </div>
      {files.length > 0 && (
        <ul class="pending-files">
          {files.map((file, i) => (
            <li>
              <span>
                📎 {file.name} <span class="muted">{bytes(file.size)}</span>
              </span>
              <button
                type="button"
                class="link-button"
                aria-label={`Remove ${file.name}`}
                onClick={() => setFiles(files.filter((_, j) => j !== i))}
              >
                ✕
              </button>
            </li>
          ))}
        </ul>
      )}
      <div class="composer-row">
        <button
          type="button"
          class="icon-button"
          aria-label="Attach a file"
          title="Attach a file"
          onClick={() => fileInput.current?.click()}
        >
          +
        </button>
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          aria-label="Attachment"
          onChange={(e) => {
            const chosen = [...(e.currentTarget.files ?? [])];
            setFiles([...files, ...chosen]);
            e.currentTarget.value = "";
          }}
        />
        <textarea
          rows={1}
          value={text}
          placeholder={`Message as ${acting.display}`}
          aria-label={`Message as ${acting.display}`}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              void send();
            }
          }}
        />
        <button
          type="submit"
          class="send-button"
          aria-label="Send"
          disabled={sending || (!text.trim() && files.length === 0)}
        >
          ↑
        </button>
      </div>
    </form>
  );
}
