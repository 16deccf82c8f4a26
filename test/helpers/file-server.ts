import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ServedFile {
  body: Buffer | string;
  status?: number;
  type?: string;
  headers?: Record<string, string>;
  /** Send without Content-Length, in small chunks (the size is unknown until the end). */
  chunked?: boolean;
}

export interface FileServer {
  /** Absolute URL of a path on this server. */
  url(path: string): string;
  /** Paths requested so far, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1, port 0, standing in for a partner's CDN: attachment
 * URLs are downloaded from it. Unknown paths answer 404.
 */
export async function startFileServer(files: Record<string, ServedFile>): Promise<FileServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    requests.push(path);
    const file = files[path];
    if (!file) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const body = typeof file.body === "string" ? Buffer.from(file.body) : file.body;
    res.writeHead(file.status ?? 200, {
      "content-type": file.type ?? "application/octet-stream",
      ...(file.chunked ? {} : { "content-length": String(body.byteLength) }),
      ...file.headers,
    });
    if (!file.chunked) {
      res.end(body);
      return;
    }
    for (let offset = 0; offset < body.byteLength; offset += 256) res.write(body.subarray(offset, offset + 256));
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
