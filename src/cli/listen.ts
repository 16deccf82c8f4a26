/**
 * `openlinq listen`: receives an organization's events from a running openlinq over one
 * outbound connection and POSTs each to local URLs with the bytes and signature headers a
 * webhook subscription would get. Made for laptops and CI, where the sandbox cannot reach
 * the receiver: no inbound port, no login step (a token is enough).
 *
 * Nothing is lost: the server keeps this listener's cursor and streams what comes after it;
 * an event is acknowledged only once every target answered, so a stream that drops, a server
 * that restarts or a listener that is killed resumes where it stopped. Events are forwarded
 * one at a time in stream order, so each chat's events arrive in the order they happened.
 * The one repeat: an event whose local answer came in just before the listener was killed,
 * before its acknowledgement reached the server (at most one per kill). Receivers can
 * recognise it by its `webhook-id`, as with any webhook.
 *
 * A client of the HTTP API only: it imports nothing from the server.
 */

export const LISTEN_USAGE = `openlinq listen --forward-to URL [--forward-to URL2] [--events message.received,reaction.*]
                [--replay-since TIME] [--name NAME] [--version 2|3] [--payload-version 2025-01-01|2026-02-03]
                [--api http://localhost:4010] [--token T]
  Forwards your organization's events to local URLs as a V2 (default) or V3 subscription
  gets them, resuming after the last event acknowledged (kept by the server under NAME,
  default "default"). --payload-version (with --version 3) picks the V3 payload version as
  ?version= on a subscription's target URL does (default 2026-02-03). TIME: an ISO date-time
  or a duration back from now (30m, 2h, 1d). Token from --token or OPENLINQ_TOKEN.`;

export interface ListenOptions {
  api: string;
  token: string | undefined;
  forwardTo: readonly string[];
  events: string | undefined;
  replaySince: string | undefined;
  name: string | undefined;
  /** The API version whose payloads and signatures to forward: "2" (default) or "3". */
  version?: string | undefined;
  /** V3 only: the payload version (a date, as `?version=` on a target URL); the server's default without it. */
  payloadVersion?: string | undefined;
}

export interface ListenIo {
  out(line: string): void;
  /** Resolves when the listener should stop (Ctrl-C). */
  stopped: Promise<void>;
  now(): number;
}

/** Waits after a failure: doubles from the first to the last, resets once things work again. */
const BACKOFF_MS = [250, 500, 1_000, 2_000, 5_000, 10_000];
/** A stream silent this long is dead (the server sends a comment every 15 s). */
const STREAM_IDLE_MS = 45_000;
/** A local endpoint that takes longer has failed this attempt. */
const FORWARD_TIMEOUT_MS = 30_000;

/** Exit code: 0 after Ctrl-C, 2 on misuse or a refused token. */
export async function runListen(options: ListenOptions, io: ListenIo): Promise<number> {
  const problems: string[] = [];
  if (!options.token) problems.push("a token is needed (--token or OPENLINQ_TOKEN)");
  if (options.forwardTo.length === 0) problems.push("at least one --forward-to URL is needed");
  for (const url of options.forwardTo) if (!isHttpUrl(url)) problems.push(`--forward-to ${url} is not an http(s) URL`);
  if (!isHttpUrl(options.api)) problems.push(`--api ${options.api} is not an http(s) URL`);
  if (options.version !== undefined && !["2", "3"].includes(options.version)) problems.push(`--version takes 2 or 3, not ${options.version}`);
  if (options.payloadVersion !== undefined && options.version !== "3") problems.push("--payload-version needs --version 3");
  // The server knows the payload versions and refuses an unknown one when the stream opens.
  else if (options.payloadVersion !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(options.payloadVersion)) {
    problems.push(`--payload-version takes a date like 2026-02-03, not ${options.payloadVersion}`);
  }
  let replaySince: Date | undefined;
  if (options.replaySince !== undefined) {
    replaySince = parseSince(options.replaySince, io.now());
    if (!replaySince) problems.push(`--replay-since ${options.replaySince} is neither an ISO date-time nor a duration like 30m, 2h, 1d`);
  }
  if (problems.length > 0) {
    io.out(`openlinq listen: ${problems.join("; ")}\n\n${LISTEN_USAGE}`);
    return 2;
  }
  const listener = new Listener({ ...options, token: options.token! }, io);
  return listener.run(replaySince);
}

function isHttpUrl(text: string): boolean {
  try {
    return ["http:", "https:"].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An ISO date-time, or a duration back from now. */
export function parseSince(text: string, now: number): Date | undefined {
  const duration = DURATION.exec(text.trim());
  if (duration) return new Date(now - Number(duration[1]) * UNIT_MS[duration[2]!]!);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** One Server-Sent Events frame. */
export interface SseFrame {
  event: string;
  data: string;
}

/** Splits a stream of text into SSE frames; feed chunks, get the complete frames so far. */
export function createSseParser(): (chunk: string) => SseFrame[] {
  let buffer = "";
  return (chunk) => {
    buffer += chunk.replace(/\r\n?/g, "\n");
    const frames: SseFrame[] = [];
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
      }
      if (data.length > 0) frames.push({ event, data: data.join("\n") });
    }
    return frames;
  };
}

interface StreamedEvent {
  position: number;
  event_id: string;
  event_type: string;
  chat_id: number | null;
  headers: Record<string, string>;
  body: string;
}

/** A refusal that retrying cannot fix: the listener stops. */
class FatalError extends Error {}

/** A failure worth retrying after a wait (network, 5xx, a dropped stream). */
class TransientError extends Error {}

class Listener {
  private readonly name: string;
  private readonly base: string;
  private stopping = false;
  private readonly abort = new AbortController();
  /** The last position forwarded by this process: a stream resent after a reconnect skips to here. */
  private forwardedTo = -1;
  private failures = 0;

  constructor(
    private readonly options: ListenOptions & { token: string },
    private readonly io: ListenIo,
  ) {
    this.name = options.name ?? "default";
    this.base = options.api.replace(/\/+$/, "");
    void io.stopped.then(() => {
      this.stopping = true;
      this.abort.abort();
    });
  }

  async run(replaySince: Date | undefined): Promise<number> {
    try {
      await this.open(replaySince);
      while (!this.stopping) {
        try {
          await this.streamOnce();
          if (!this.stopping) throw new TransientError("the server ended the stream");
        } catch (error) {
          if (this.stopping) break;
          if (error instanceof FatalError) throw error;
          await this.backoff(`stream lost (${describe(error)})`);
          // The listener may have been deleted meanwhile: open it again (a no-op otherwise).
          if ((error as { status?: number }).status === 404) await this.open(undefined);
        }
      }
      return 0;
    } catch (error) {
      if (this.stopping) return 0;
      if (error instanceof FatalError) {
        this.io.out(`openlinq listen: ${error.message}`);
        return 2;
      }
      throw error;
    }
  }

  /** PUT the listener (creates it, or finds it to resume); retries until the server answers. */
  private async open(replaySince: Date | undefined): Promise<void> {
    for (;;) {
      try {
        const answer = await this.call("PUT", `/listeners/${encodeURIComponent(this.name)}`, replaySince ? { replay_since: replaySince.toISOString() } : {});
        const listener = answer.listener as { secret: string; acked_position: number };
        const waiting = Math.max(0, (answer.last_position as number) - listener.acked_position);
        this.io.out(
          `listening as "${this.name}" on ${this.base} → ${this.options.forwardTo.join(", ")} (${this.payloads()})\n` +
            `  signing secret: ${listener.secret}\n` +
            `  ${answer.created ? "new listener: starting with the next event" : `resuming after position ${listener.acked_position}`}` +
            (replaySince ? ` (replaying since ${replaySince.toISOString()})` : "") +
            (waiting > 0 && !answer.created ? `; up to ${waiting} events waiting` : ""),
        );
        this.failures = 0;
        return;
      } catch (error) {
        if (error instanceof FatalError || this.stopping) throw error;
        await this.backoff(`cannot open the listener (${describe(error)})`);
      }
    }
  }

  private payloads(): string {
    const version = this.options.version ?? "2";
    return this.options.payloadVersion === undefined ? `V${version} payloads` : `V${version} payloads, version ${this.options.payloadVersion}`;
  }

  private async streamOnce(): Promise<void> {
    const query = new URLSearchParams({ version: this.options.version ?? "2" });
    if (this.options.payloadVersion !== undefined) query.set("payload_version", this.options.payloadVersion);
    if (this.options.events) query.set("events", this.options.events);
    const idle = new AbortController();
    let idleTimer = setTimeout(() => idle.abort(), STREAM_IDLE_MS);
    const response = await fetch(`${this.base}/openlinq/v1/listeners/${encodeURIComponent(this.name)}/stream?${query}`, {
      headers: { accept: "text/event-stream", "x-linq-integration-token": this.options.token },
      signal: AbortSignal.any([this.abort.signal, idle.signal]),
    });
    if (!response.ok || !response.body) {
      clearTimeout(idleTimer);
      throw await answerError(response);
    }
    const parse = createSseParser();
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body) {
        clearTimeout(idleTimer);
        idleTimer = setTimeout(() => idle.abort(), STREAM_IDLE_MS);
        for (const frame of parse(decoder.decode(chunk as Uint8Array, { stream: true }))) {
          if (this.stopping) return;
          if (frame.event === "hello") this.failures = 0;
          else if (frame.event === "webhook") await this.forward(JSON.parse(frame.data) as StreamedEvent);
          else if (frame.event === "checkpoint") await this.acknowledge((JSON.parse(frame.data) as { position: number }).position);
        }
      }
    } finally {
      clearTimeout(idleTimer);
    }
  }

  /** Every target answers (or refuses for good), then the position is acknowledged. */
  private async forward(event: StreamedEvent): Promise<void> {
    if (event.position > this.forwardedTo) {
      const results = await Promise.all(this.options.forwardTo.map((target) => this.deliver(event, target)));
      this.io.out(`${event.event_type.padEnd(26)} ${event.event_id}  ${results.join(", ")}`);
      this.forwardedTo = event.position;
    }
    await this.acknowledge(event.position);
  }

  /** POSTs until the target takes it or refuses it for good; returns "status ms" of the last try. */
  private async deliver(event: StreamedEvent, target: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const started = this.io.now();
      let status: number | undefined;
      let failure: string | undefined;
      try {
        const response = await fetch(target, {
          method: "POST",
          headers: event.headers,
          body: event.body,
          redirect: "manual",
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(FORWARD_TIMEOUT_MS)]),
        });
        await response.arrayBuffer().catch(() => undefined);
        status = response.status;
      } catch (error) {
        if (this.stopping) throw error;
        failure = describe(error);
      }
      const took = `${this.io.now() - started}ms`;
      const label = this.options.forwardTo.length > 1 ? `${target} ` : "";
      if (status !== undefined && !retryable(status)) return `${label}${status} ${took}`;
      // Unreachable or failing: keep the event (and those after it) until the target is back.
      const wait = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]!;
      this.io.out(
        `${event.event_type.padEnd(26)} ${event.event_id}  ${label}${status ?? failure} ${took}; retrying in ${formatWait(wait)}`,
      );
      await this.sleep(wait);
    }
  }

  /** Retried until the server records it: the stream's next events wait for it. */
  private async acknowledge(position: number): Promise<void> {
    for (;;) {
      try {
        await this.call("POST", `/listeners/${encodeURIComponent(this.name)}/ack`, { position });
        return;
      } catch (error) {
        if (error instanceof FatalError || this.stopping) throw error;
        // Deleted meanwhile: the next stream opens it again and starts over from there.
        if ((error as { status?: number }).status === 404) throw error;
        await this.backoff(`cannot acknowledge position ${position} (${describe(error)})`);
      }
    }
  }

  private async call(method: string, path: string, body: unknown): Promise<Record<string, unknown>> {
    const response = await fetch(`${this.base}/openlinq/v1${path}`, {
      method,
      headers: { "content-type": "application/json", "x-linq-integration-token": this.options.token },
      body: JSON.stringify(body),
      signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(FORWARD_TIMEOUT_MS)]),
    });
    if (!response.ok) throw await answerError(response);
    return (await response.json()) as Record<string, unknown>;
  }

  private async backoff(reason: string): Promise<void> {
    const wait = BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)]!;
    this.failures += 1;
    this.io.out(`${reason}; retrying in ${formatWait(wait)}`);
    await this.sleep(wait);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.abort.signal.removeEventListener("abort", wake);
        resolve();
      }, ms);
      this.abort.signal.addEventListener("abort", wake, { once: true });
    });
  }
}

/** What a webhook sender retries: 408, 429 and 5xx. */
function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function formatWait(ms: number): string {
  return ms < 1_000 ? `${ms}ms` : `${ms / 1_000}s`;
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code}${cause.message ? `: ${cause.message}` : ""}`;
  return error instanceof Error ? error.message : String(error);
}

/** A non-2xx answer from openlinq: fatal when retrying cannot help (a refused token, a bad filter). */
async function answerError(response: Response): Promise<Error> {
  let detail = await response.text().catch(() => "");
  try {
    detail = (JSON.parse(detail) as { errors: { detail: string }[] }).errors[0]!.detail;
  } catch {
    // Not our envelope (a proxy's page): keep it as it came, shortened.
    detail = detail.slice(0, 200);
  }
  const message = `openlinq answered ${response.status}: ${detail}`;
  if (response.status === 401 || response.status === 403) return new FatalError(`${message} (check --token or OPENLINQ_TOKEN)`);
  if (response.status === 400 || response.status === 422) return new FatalError(message);
  return Object.assign(new TransientError(message), { status: response.status });
}
