import type { Attachment, Message, ReactionType } from "../api.ts";
import { REACTIONS, bytes, clockTime, deliveryLabel, fullTime, isFailedStatus, reactionLabel } from "../format.ts";
import { memo } from "../memo.ts";
import { TapbackIcon } from "./tapback-icon.tsx";

export interface BubbleProps {
  message: Message;
  /** iMessage blue, SMS/RCS green for our side. */
  serviceClass: string;
  /** Sender's name above an inbound bubble in a group, when the sender changes. */
  senderLabel: string | null;
  /** Last bubble of a run from one sender: gets the tail. */
  tail: boolean;
  /** Status line under an outbound bubble (the newest one, or a failed one). */
  showStatus: boolean;
  nameOf: (handle: string) => string;
  pickerOpen: boolean;
  /**
   * Open the picker under the bubble (no room above it in the scroller). It then takes its own
   * line in the row, pushing later bubbles down instead of covering the next one.
   */
  pickerBelow: boolean;
  /** Reactions the acting recipient already left on this message (the picker toggles them). */
  actingReactions: ReactionType[];
  actingLabel: string | null;
  onOpenPicker: (messageId: number | null, below?: boolean) => void;
  onReact: (message: Message, reaction: ReactionType, remove: boolean) => void;
}

function AttachmentView({ attachment }: { attachment: Attachment }) {
  const { mime_type: type, url, filename } = attachment;
  if (type.startsWith("image/")) {
    return (
      <a class="attachment-image" href={url} target="_blank" rel="noreferrer">
        <img src={url} alt={filename} loading="lazy" decoding="async" />
      </a>
    );
  }
  if (type.startsWith("video/")) return <video class="attachment-media" src={url} controls preload="metadata" />;
  if (type.startsWith("audio/")) return <audio class="attachment-audio" src={url} controls preload="metadata" />;
  return (
    <a class="attachment-file" href={url} target="_blank" rel="noreferrer" download={filename}>
      <span class="file-icon" aria-hidden="true">
        {filename.includes(".") ? filename.split(".").pop()!.slice(0, 4).toUpperCase() : "FILE"}
      </span>
      <span class="file-meta">
        <span class="file-name">{filename}</span>
        <span class="file-size">
          {bytes(attachment.file_size)} · {type}
        </span>
      </span>
    </a>
  );
}

/** Times and id on hover; built only then, so a long thread renders without formatting dates it never shows. */
function detailsOf(message: Message): string {
  return [
    `Sent ${fullTime(message.sent_at)}`,
    message.delivered_at ? `Delivered ${fullTime(message.delivered_at)}` : null,
    message.read_at ? `Read ${fullTime(message.read_at)}` : null,
    message.edited_at ? `Edited ${fullTime(message.edited_at)}` : null,
    `Message ${message.id}`,
  ]
    .filter(Boolean)
    .join("\n");
}

function BubbleView(props: BubbleProps) {
  const { message, nameOf } = props;
  const side = message.is_from_me ? "out" : "in";
  const failed = message.is_from_me && isFailedStatus(message.delivery_status);
  const counts = new Map<string, string[]>();
  for (const r of message.reactions) {
    const who = r.is_from_me ? "You" : nameOf(r.from_phone);
    counts.set(r.reaction, [...(counts.get(r.reaction) ?? []), who]);
  }
  return (
    <div class={`row row-${side} ${props.tail ? "row-tail" : ""}`} data-message-id={message.id}>
      {props.senderLabel && <div class="sender-label">{props.senderLabel}</div>}
      <div class="bubble-line">
        <div
          class={`bubble bubble-${side} ${side === "out" ? props.serviceClass : ""} ${failed ? "bubble-failed" : ""} ${
            message.text ? "" : "bubble-media-only"
          }`}
          onPointerEnter={(e) => (e.currentTarget.title = detailsOf(message))}
        >
          {message.attachments.map((a) => (
            <AttachmentView attachment={a} />
          ))}
          {message.text && <div class="bubble-text">{message.text}</div>}
          {counts.size > 0 && (
            <div class="tapbacks" aria-label="Reactions">
              {[...counts].map(([type, who]) => (
                <span class="tapback" title={`${reactionLabel(type)}: ${who.join(", ")}`} data-reaction={type}>
                  <TapbackIcon type={type as ReactionType} size={13} />
                  {who.length > 1 && <span class="tapback-count">{who.length}</span>}
                </span>
              ))}
            </div>
          )}
        </div>
        {props.actingLabel && (
          <button
            type="button"
            class="react-button"
            aria-label={`React to this message as ${props.actingLabel}`}
            aria-expanded={props.pickerOpen}
            onClick={(e) => {
              if (props.pickerOpen) return props.onOpenPicker(null);
              // Above the bubble, as on a phone, unless the scroller's top edge would cut it off.
              const line = e.currentTarget.parentElement!.getBoundingClientRect();
              const scroller = e.currentTarget.closest(".messages")?.getBoundingClientRect();
              props.onOpenPicker(message.id, scroller ? line.top - scroller.top < 64 : false);
            }}
          >
            ☺
          </button>
        )}
      </div>
      {props.pickerOpen && (
        <div
          class={`tapback-picker ${props.pickerBelow ? "below" : ""}`}
          role="menu"
          aria-label={`Tapback as ${props.actingLabel}`}
          // In its own line at the end of a thread it may start below the fold.
          ref={(el) => el?.scrollIntoView({ block: "nearest" })}
        >
          {REACTIONS.map((r) => {
            const active = props.actingReactions.includes(r.type);
            return (
              <button
                type="button"
                role="menuitem"
                class={active ? "active" : ""}
                title={active ? `Remove ${r.label}` : r.label}
                aria-label={active ? `Remove ${r.label}` : r.label}
                onClick={() => props.onReact(message, r.type, active)}
              >
                <TapbackIcon type={r.type} size={20} />
              </button>
            );
          })}
        </div>
      )}
      {props.showStatus && (
        <div class={`status-line ${failed ? "status-failed" : ""}`}>
          {deliveryLabel(message.delivery_status, message.is_read, message.read_at)}
          {message.edited_at ? " · Edited" : ""}
        </div>
      )}
      {!props.showStatus && message.edited_at && <div class="status-line">Edited {clockTime(message.edited_at)}</div>}
    </div>
  );
}

export const Bubble = memo(BubbleView);
