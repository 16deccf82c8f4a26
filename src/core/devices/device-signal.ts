/**
 * What a simulated device shows about us, and what it is doing right now. One signal per
 * (chat, handle, kind); writing it again replaces it.
 * - our_typing: our "typing…" bubble on their screen (expires after 60 s, like Linq's)
 * - their_typing: they are typing to us
 * - read_receipt: they see "Read" under their messages (we marked the chat read)
 * - contact_card: they got our number's shared name and photo
 * - their_location: they share their location with us (expires when a time-limited share ends)
 */
export type DeviceSignalKind = "our_typing" | "their_typing" | "read_receipt" | "contact_card" | "their_location";

export interface DeviceSignal {
  orgId: number;
  chatId: number;
  handle: string;
  kind: DeviceSignalKind;
  at: Date;
  /** After this the signal no longer shows (typing times out); null: until replaced or removed. */
  expiresAt: Date | null;
  detail: Record<string, unknown> | null;
}

/** Linq's typing indicator disappears after 60 s without a stop (Linq's V2 typing endpoints). */
export const TYPING_TIMEOUT_MS = 60_000;
