import { DomainError } from "../../core/errors.ts";

/**
 * Cursors are opaque to clients: base64url of the sort key of the last item on the page
 * (its time and row id), so the next page starts right after it even when items were added
 * meanwhile.
 */
export interface Keyset {
  at: Date;
  id: number;
}

export function encodeCursor(keyset: Keyset): string {
  return Buffer.from(JSON.stringify([keyset.at.toISOString(), keyset.id])).toString("base64url");
}

/** The keyset a cursor stands for; a cursor we did not make is a 400 naming `cursor`. */
export function decodeCursor(cursor: string | undefined): Keyset | undefined {
  if (cursor === undefined || cursor === "") return undefined;
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [unknown, unknown];
    const date = typeof at === "string" ? new Date(at) : undefined;
    if (date && !Number.isNaN(date.getTime()) && typeof id === "number" && Number.isInteger(id) && id > 0) {
      return { at: date, id };
    }
  } catch {
    // fall through
  }
  throw new DomainError("validation_failed", "cursor is not a cursor from a previous page", {
    field: "cursor",
    reason: " is not a cursor from a previous page",
  });
}

/** An offset cursor, for lists that are built in memory (threads). */
export function decodeOffsetCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === "") return 0;
  if (/^\d{1,9}$/.test(cursor)) return Number(cursor);
  throw new DomainError("validation_failed", "cursor is not a cursor from a previous page", {
    field: "cursor",
    reason: " is not a cursor from a previous page",
  });
}
