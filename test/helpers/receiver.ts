import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** How the receiver answers the next request. */
export type ReceiverAnswer =
  | { status: number; headers?: Record<string, string>; body?: string; delayMs?: number }
  /** Reads the request and never answers (until the receiver closes). */
  | { hang: true }
  /** Reads the request and destroys the socket without a response. */
  | { closeSocket: true };

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body bytes as UTF-8, exactly as received (for signature checks). */
  body: string;
  /** Set once a complete response went out. */
  answeredWith: number | null;
}

export interface Receiver {
  /** Base URL, `http://127.0.0.1:<port>`. */
  url: string;
  requests: ReceivedRequest[];
  /** The answer for every request from now on (default 200). */
  answer(answer: ReceiverAnswer): void;
  /** Answers for the next requests, in order; afterwards the standing answer applies. */
  queue(...answers: ReceiverAnswer[]): void;
  /** Resolves once `predicate` holds over the requests; fails after `timeoutMs` so a broken test cannot hang. */
  waitFor(predicate: (requests: ReceivedRequest[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Requests per event id (the `webhook-id` header). */
  byEvent(): Map<string, ReceivedRequest[]>;
  close(): Promise<void>;
}

/**
 * A real HTTP webhook receiver on port 0 whose answers can be switched: statuses (with
 * headers such as Retry-After), slow answers, hangs and dropped connections. It is the
 * outside world of the delivery tests; nothing of ours is faked.
 */
export async function startReceiver(initial: ReceiverAnswer = { status: 200 }): Promise<Receiver> {
  let standing = initial;
  const queued: ReceiverAnswer[] = [];
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();
  const waiters = new Set<() => void>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const record: ReceivedRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        answeredWith: null,
      };
      requests.push(record);
      const answer = queued.shift() ?? standing;
      const respond = (status: number, headers: Record<string, string> = {}, body = "ok") => {
        res.on("finish", () => {
          record.answeredWith = status;
          waiters.forEach((w) => w());
        });
        res.writeHead(status, { "content-type": "text/plain", ...headers });
        res.end(body);
      };
      if ("hang" in answer) hanging.add(res);
      else if ("closeSocket" in answer) req.socket.destroy();
      else if (answer.delayMs) {
        // The receiver's own slowness is part of the outside world being simulated.
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.destroyed) respond(answer.status, answer.headers, answer.body);
        }, answer.delayMs);
        timers.add(timer);
      } else respond(answer.status, answer.headers, answer.body);
      waiters.forEach((w) => w());
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer(answer) {
      standing = answer;
    },
    queue(...answers) {
      queued.push(...answers);
    },
    waitFor(predicate, timeoutMs = 15_000) {
      return new Promise<void>((resolve, reject) => {
        if (predicate(requests)) return resolve();
        const check = () => {
          if (!predicate(requests)) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`receiver: condition not met within ${timeoutMs} ms (${requests.length} requests seen)`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
      });
    },
    byEvent() {
      const map = new Map<string, ReceivedRequest[]>();
      for (const request of requests) {
        const id = String(request.headers["webhook-id"]);
        map.set(id, [...(map.get(id) ?? []), request]);
      }
      return map;
    },
    async close() {
      timers.forEach(clearTimeout);
      hanging.forEach((res) => res.destroy());
      sockets.forEach((socket) => socket.destroy());
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
