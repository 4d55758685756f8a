// A TCP proxy in front of a test server whose connections the test can cut, as a network drop
// would, and which counts the bytes clients send through it (to see that a resumed upload sends
// only what the server lacks).

import net from 'node:net';

/** A TCP proxy in front of the server whose connections can be cut, as a network drop would. */
export async function createProxy(target: number) {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let bytesUp = 0;
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) return client.destroy();
    connections++;
    client.on('data', (chunk: Buffer) => void (bytesUp += chunk.length));
    const upstream = net.connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    get connections() {
      return connections;
    },
    /** Bytes sent by clients towards the server since the proxy started. */
    get bytesUp() {
      return bytesUp;
    },
    cut: () => sockets.forEach((s) => s.destroy()),
    /** Cuts every connection and refuses new ones until `restore()`: the network is down. */
    down: () => {
      refusing = true;
      sockets.forEach((s) => s.destroy());
    },
    restore: () => {
      refusing = false;
    },
    close: () => new Promise<void>((resolve) => {
      sockets.forEach((s) => s.destroy());
      server.close(() => resolve());
    }),
  };
}
