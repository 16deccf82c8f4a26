/** A finished voice call on one of our numbers (only ever reported, through call.completed). */
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
