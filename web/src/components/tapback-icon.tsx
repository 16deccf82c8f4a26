import type { ComponentChildren } from "preact";
import type { ReactionType } from "../api.ts";

/**
 * The six tapbacks as inline SVG drawn in the text colour. Emoji would need a colour emoji
 * font, which a stock Linux browser lacks (👍 👎 ❓ show as empty boxes there); these ship with
 * the inbox and look the same everywhere.
 */

// Functions, not shared elements: one vnode must not be rendered in two places at once.
const thumb = () => (
  <>
    <rect x="2" y="10" width="4" height="11" rx="1" />
    <path d="M8 10.5 11.6 3c1.5 0 3 1.1 3 3v3h5.3c1.4 0 2.4 1.3 2 2.6l-2.2 7.7c-.3 1-1.2 1.7-2.2 1.7H8z" />
  </>
);

const SHAPES: Record<ReactionType, () => ComponentChildren> = {
  love: () => (
    <>
      <circle cx="7.6" cy="8.6" r="4.6" />
      <circle cx="16.4" cy="8.6" r="4.6" />
      <path d="M3.1 9.8 12 20.5l8.9-10.7L12 8.2z" />
    </>
  ),
  like: thumb,
  dislike: () => <g transform="rotate(180 12 12)">{thumb()}</g>,
  laugh: () => (
    <>
      <circle cx="12" cy="12" r="9.5" fill="none" stroke="currentColor" stroke-width="2" />
      <path d="M6.8 9.6q1.7-2.2 3.4 0M13.8 9.6q1.7-2.2 3.4 0" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" />
      <path d="M6.5 13h11a5.5 5.5 0 0 1-11 0z" />
    </>
  ),
  emphasize: () => (
    <>
      <rect x="6" y="3" width="4" height="12" rx="2" />
      <circle cx="8" cy="19" r="2.1" />
      <rect x="14" y="3" width="4" height="12" rx="2" />
      <circle cx="16" cy="19" r="2.1" />
    </>
  ),
  question: () => (
    <>
      <path
        d="M8 8.6a4 4 0 1 1 5.7 3.6c-1.1.5-1.7 1.4-1.7 2.6v.8"
        fill="none"
        stroke="currentColor"
        stroke-width="2.6"
        stroke-linecap="round"
      />
      <circle cx="12" cy="19.6" r="1.7" />
    </>
  ),
};

export function TapbackIcon({ type, size = 16 }: { type: ReactionType; size?: number }) {
  return (
    <svg class={`tapback-icon tapback-icon-${type}`} width={size} height={size} viewBox="0 0 24 24" fill="currentColor" aria-hidden="true" focusable="false">
      {SHAPES[type]()}
    </svg>
  );
}
