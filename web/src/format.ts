import type { ReactionType } from "./api.ts";

/** Built on first use: creating Intl formatters costs start-up time the first render needs. */
function lazyFormat(options: Intl.DateTimeFormatOptions): { format(date: Date): string } {
  let formatter: Intl.DateTimeFormat | undefined;
  return { format: (date) => (formatter ??= new Intl.DateTimeFormat(undefined, options)).format(date) };
}

const time = lazyFormat({ hour: "numeric", minute: "2-digit" });
const weekday = lazyFormat({ weekday: "short" });
const shortDate = lazyFormat({ month: "short", day: "numeric" });
const longDate = lazyFormat({ weekday: "long", month: "long", day: "numeric", year: "numeric" });
const full = lazyFormat({ dateStyle: "medium", timeStyle: "medium" });

const DAY = 86_400_000;

/** 10:42 today, Tue this week, Mar 3 before that: what a phone's chat list shows. */
export function listTime(iso: string, now = Date.now()): string {
  const date = new Date(iso);
  const startOfToday = new Date(now).setHours(0, 0, 0, 0);
  if (date.getTime() >= startOfToday) return time.format(date);
  if (date.getTime() >= startOfToday - 6 * DAY) return weekday.format(date);
  return shortDate.format(date);
}

export const clockTime = (iso: string) => time.format(new Date(iso));

const preciseTime = lazyFormat({ hour: "numeric", minute: "2-digit", second: "2-digit" });
/** 5:19:07 PM today, Nov 24 5:19:07 PM before: the events list, where seconds matter. */
export function eventTime(iso: string, now = Date.now()): string {
  const date = new Date(iso);
  const startOfToday = new Date(now).setHours(0, 0, 0, 0);
  return date.getTime() >= startOfToday ? preciseTime.format(date) : `${shortDate.format(date)} ${preciseTime.format(date)}`;
}
export const dayLabel = (iso: string) => longDate.format(new Date(iso));
export const fullTime = (iso: string) => full.format(new Date(iso));
export const dayKey = (iso: string) => new Date(iso).toDateString();

export function bytes(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(size < 10 * 1024 ? 1 : 0)} KB`;
  return `${(size / (1024 * 1024)).toFixed(1)} MB`;
}

/** The tapbacks in the picker's order; components/tapback-icon.tsx draws each (no emoji font needed). */
export const REACTIONS: { type: ReactionType; label: string }[] = [
  { type: "love", label: "Love" },
  { type: "like", label: "Like" },
  { type: "dislike", label: "Dislike" },
  { type: "laugh", label: "Laugh" },
  { type: "emphasize", label: "Emphasize" },
  { type: "question", label: "Question" },
];

export const reactionLabel = (type: string) => REACTIONS.find((r) => r.type === type)?.label ?? type;

/** Up to two initials of a name, or the last two digits of a number. */
export function initials(name: string): string {
  if (/^[+\d\s()-]+$/.test(name)) return name.replace(/\D/g, "").slice(-2);
  const words = name.split(/[\s,]+/).filter(Boolean);
  return ((words[0]?.[0] ?? "") + (words[1]?.[0] ?? "")).toUpperCase() || "?";
}

/** Human wording of a delivery status under an outbound bubble. */
export function deliveryLabel(status: string, isRead: boolean, readAt: string | null): string {
  if (isRead) return readAt ? `Read ${clockTime(readAt)}` : "Read";
  switch (status) {
    case "delivered":
      return "Delivered";
    case "pending":
      return "Sending…";
    case "failed":
      return "Not delivered";
    case "service_unavailable":
      return "Not delivered: service unavailable";
    case "rate_limit_exceeded":
      return "Not delivered: rate limit";
    case "paused":
      return "Paused";
    default:
      return status;
  }
}

export const isFailedStatus = (status: string) =>
  status === "failed" || status === "service_unavailable" || status === "rate_limit_exceeded";

/** `yyyy-MM-ddTHH:mm:ss` in local time, what <input type=datetime-local> takes. */
export function toLocalInput(date: Date): string {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 19);
}
