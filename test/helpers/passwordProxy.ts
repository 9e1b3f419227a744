// A PostgreSQL front door that demands a password. The local server trusts every connection from 127.0.0.1,
// so it cannot show that a password ever reached it; this proxy asks each client for one in cleartext
// (AuthenticationCleartextPassword), refuses wrong ones with the server's own error code (28P01), and hands
// the accepted ones, startup message and all, to the real server.
import { once } from 'node:events';
import * as net from 'node:net';

export interface PasswordProxy {
  port: number;
  /** Connections that sent the right password, and those that did not. */
  readonly accepted: number;
  readonly rejected: number;
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

export async function startPasswordProxy(password: string, upstream: { host: string; port: number }): Promise<PasswordProxy> {
  let accepted = 0;
  let rejected = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let buffered = Buffer.alloc(0);
    let startup: Buffer | undefined;
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      while (true) {
        if (!startup) {
          if (buffered.length < 8) return;
          const length = buffered.readInt32BE(0);
          if (buffered.length < length) return;
          const message = buffered.subarray(0, length);
          buffered = buffered.subarray(length);
          const code = message.readInt32BE(4);
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
            client.write('N');
            continue;
          }
          startup = Buffer.from(message);
          client.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3]));
          continue;
        }
        if (buffered.length < 5) return;
        const length = buffered.readInt32BE(1);
        if (buffered.length < 1 + length) return;
        const type = String.fromCharCode(buffered[0]);
        const sent = buffered.toString('utf8', 5, 1 + length).replace(/\0$/, '');
        const rest = buffered.subarray(1 + length);
        client.off('data', onData);
        if (type !== 'p' || sent !== password) {
          rejected++;
          client.end(errorResponse('28P01', 'password authentication failed (SQL Insight e2e proxy)'));
          return;
        }
        accepted++;
        const real = net.connect(upstream.port, upstream.host);
        sockets.add(real);
        real.on('error', () => client.destroy());
        real.on('close', () => {
          sockets.delete(real);
          client.destroy();
        });
        client.on('close', () => real.destroy());
        real.write(startup);
        if (rest.length > 0) real.write(rest);
        client.pipe(real);
        real.pipe(client);
        return;
      }
    };
    client.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    get accepted() {
      return accepted;
    },
    get rejected() {
      return rejected;
    },
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`, 'utf8');
  const header = Buffer.alloc(5);
  header.write('E', 0);
  header.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([header, fields]);
}
