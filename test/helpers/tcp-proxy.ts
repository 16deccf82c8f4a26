import { connect, createServer, type AddressInfo, type Socket } from "node:net";

/**
 * A TCP proxy on port 0 in front of a server, whose connections a test can cut at any
 * moment: the network failing between a client and the server (neither side is told).
 */
export interface TcpProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Sends new connections to another server (one that replaced the first, on another port). */
  retarget(target: { host: string; port: number }): void;
  /** Destroys every connection open through the proxy; returns how many. */
  cutAll(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(initial: { host: string; port: number }): Promise<TcpProxy> {
  let target = initial;
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    // No Nagle delay: the proxy must not slow small request/response exchanges down.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const cutAll = () => {
    const count = pairs.size;
    for (const [client, upstream] of [...pairs]) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
    return count;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    retarget(next) {
      target = next;
    },
    cutAll,
    async close() {
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
