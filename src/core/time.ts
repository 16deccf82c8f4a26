/**
 * Wire timestamp formats. REST uses ISO 8601 with milliseconds; webhook payloads use two
 * styles per field (as Linq's V2 reference shows): ISO without millis, and Ruby's Time#to_s.
 * Everything is rendered in UTC; the stored form is ISO with milliseconds and `Z`.
 */
const pad = (value: number, width = 2): string => String(value).padStart(width, "0");

/** `2025-05-21T15:30:00.123Z` — REST fields and the stored form. */
export function isoMillis(date: Date): string {
  return date.toISOString();
}

/** `2025-05-21T15:30:00+00:00` — webhook envelope `created_at`, `read_at`. */
export function isoSeconds(date: Date): string {
  return `${date.toISOString().slice(0, 19)}+00:00`;
}

/** `2025-05-21 15:30:00 +0000` — webhook `sent_at`, reaction `created_at`, typing `timestamp`. */
export function rubyTime(date: Date): string {
  return (
    `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}
