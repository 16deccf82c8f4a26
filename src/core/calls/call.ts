/** A finished voice call on one of our numbers (only ever reported: call.completed and its steps). */
export interface CallRecording {
  url: string | null;
  durationSeconds: number;
  transcription: string | null;
  summary: string | null;
}

export type CallDirection = "inbound" | "outbound";
export const CALL_STATUSES = ["completed", "missed", "busy", "no-answer", "failed"] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

export interface Call {
  id: number;
  orgId: number;
  phoneNumberId: number;
  direction: CallDirection;
  fromHandle: string;
  toHandle: string;
  status: CallStatus;
  startedAt: Date;
  endedAt: Date;
  durationSeconds: number;
  answeredBy: string | null;
  forwardedFrom: string | null;
  voicemail: boolean;
  recording: CallRecording | null;
  createdAt: Date;
}

/** The steps of a call's life, each a domain event of its own (V3 shows them as they are named). */
export const CALL_STEPS = [
  "call.initiated",
  "call.ringing",
  "call.answered",
  "call.ended",
  "call.declined",
  "call.no_answer",
  "call.failed",
] as const;
export type CallStep = (typeof CALL_STEPS)[number];

/**
 * The steps a call went through, in order, from how it ended: every call is initiated; one that
 * did not fail rang; then exactly one ending. A call answered by voicemail was not answered by
 * anyone (no_answer, with `voicemail` set); a busy line is a declined call.
 */
export function callSteps(status: CallStatus, voicemail: boolean): CallStep[] {
  switch (status) {
    case "completed":
      return voicemail ? ["call.initiated", "call.ringing", "call.no_answer"] : ["call.initiated", "call.ringing", "call.answered", "call.ended"];
    case "missed":
    case "no-answer":
      return ["call.initiated", "call.ringing", "call.no_answer"];
    case "busy":
      return ["call.initiated", "call.ringing", "call.declined"];
    case "failed":
      return ["call.initiated", "call.failed"];
  }
}
