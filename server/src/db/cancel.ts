// PostgreSQL's out-of-band cancel request: a fresh connection that sends only the backend's pid and
// secret key. It needs no authentication and no pool slot, so it works even when both are busy.
import * as net from 'net';

const CANCEL_REQUEST_CODE = 80877102;

export interface CancelTarget {
  host: string;
  port: number;
  processID: number;
  secretKey: number;
}

/** Resolves (never rejects) once the server has closed the cancel connection, or after `timeoutMs`. */
export function sendCancelRequest(target: CancelTarget, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const packet = Buffer.alloc(16);
    packet.writeInt32BE(16, 0);
    packet.writeInt32BE(CANCEL_REQUEST_CODE, 4);
    packet.writeInt32BE(target.processID, 8);
    packet.writeInt32BE(target.secretKey, 12);

    const socket = target.host.startsWith('/')
      ? net.connect(`${target.host}/.s.PGSQL.${target.port}`)
      : net.connect(target.port, target.host);
    let delivered = false;
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(delivered);
    };
    const timer = setTimeout(done, timeoutMs);
    socket.once('connect', () => {
      socket.end(packet, () => {
        delivered = true;
      });
    });
    // The postmaster closes the connection after acting on the request.
    socket.once('close', done);
    socket.once('error', done);
  });
}
