import { DEFAULT_PROFILE, type HandleProfileSettings } from "./profile.ts";

/**
 * Built-in behaviours that need no setup: write to one of these numbers and the other
 * side behaves as named. They sit in the 555-01xx range the North American plan keeps for
 * fiction, so they never reach a real phone. A stored profile (PUT or seed file) wins.
 * docs/simulator.md ("Magic numbers") documents this table; keep the two in step.
 */
export interface MagicNumber {
  handle: string;
  name: string;
  description: string;
  settings: HandleProfileSettings;
  /** Answers a location request by sharing its location (a behaviour of this number only, not a profile setting). */
  sharesLocation?: { delayMs: number; durationMinutes: number };
}

const magic = (
  handle: string,
  name: string,
  description: string,
  settings: Partial<HandleProfileSettings>,
  extra: Pick<MagicNumber, "sharesLocation"> = {},
): MagicNumber => ({ handle, name, description, settings: { ...DEFAULT_PROFILE, ...settings }, ...extra });

export const MAGIC_NUMBERS: readonly MagicNumber[] = [
  magic("+15550100001", "unreachable", "Every message fails: delivery_status service_unavailable; iMessage check says false", {
    reachable: false,
  }),
  magic("+15550100002", "sms-only", "No iMessage: chats with it fall back to SMS; no read receipts or typing", {
    service: "SMS",
  }),
  magic("+15550100003", "rcs", "Speaks RCS: chats with it use RCS; no iMessage", { service: "RCS" }),
  magic("+15550100004", "echo-bot", "Reads and sends your text back 1 s after delivery", {
    readAfterMs: 1000,
    autoReply: { type: "echo", delayMs: 1000 },
  }),
  magic("+15550100005", "quick-reader", "Reads each message 2 s after delivery", { readAfterMs: 2000 }),
  magic("+15550100006", "slow-reader", "Reads each message 5 minutes after delivery", { readAfterMs: 300_000 }),
  magic("+15550100007", "slow-network", "Messages stay pending for 10 s before they are delivered", { latencyMs: 10_000 }),
  magic("+15550100008", "tapback-fan", "Loves every message 2 s after delivery", {
    autoReaction: { type: "love", delayMs: 2000 },
  }),
  magic("+15550100009", "scripted", "Answers your 1st, 2nd and 3rd message with a short script, 2 s after delivery", {
    readAfterMs: 2000,
    autoReply: {
      type: "script",
      loop: false,
      replies: [
        { text: "Hi! Who is this?", attachmentUrls: [], delayMs: 2000 },
        { text: "Sounds good.", attachmentUrls: [], delayMs: 2000 },
        { text: "Thanks, talk soon!", attachmentUrls: [], delayMs: 2000 },
      ],
    },
  }),
  magic(
    "+15550100010",
    "location-sharer",
    "Shares its location for an hour 2 s after you ask for it (location request): location.sharing.started",
    {},
    { sharesLocation: { delayMs: 2000, durationMinutes: 60 } },
  ),
];

const BY_HANDLE = new Map(MAGIC_NUMBERS.map((m) => [m.handle, m]));

export function magicNumber(handle: string): MagicNumber | undefined {
  return BY_HANDLE.get(handle);
}
