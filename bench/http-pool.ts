/**
 * A lean HTTP/1.1 client for the benchmarks: kept-alive connections over plain sockets, one request
 * at a time per connection, responses framed by Content-Length. The benchmarks' load generator
 * shares 2 cores with the three nodes it measures, and node:http's client costs several times more
 * CPU per request than the server work being measured (on this machine a bare fastify route serves
 * ~5,400 req/s to a node:http client and ~10,500 req/s to wrk); every cycle it saves goes to the
 * cluster instead.
 *
 * It does only what the benchmarks need: no chunked responses (fastify sends Content-Length for
 * the JSON it serves; anything else fails the request with a clear error), no redirects, no TLS.
 */
import net from 'node:net';

export interface HttpResponse {
  readonly status: number;
  readonly body: Buffer;
}

export class HttpPoolError extends Error {
  readonly code = 'ERR_BENCH_HTTP';
}

interface Pending {
  readonly payload: string;
  readonly resolve: (r: HttpResponse) => void;
  readonly reject: (e: Error) => void;
  startedAt: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** One kept-alive connection; `onIdle` is called each time it can take the next request. */
class Connection {
  private readonly socket: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private current: Pending | null = null;
  closed = false;

  constructor(host: string, port: number, private readonly onIdle: (c: Connection) => void, private readonly onClose: (c: Connection) => void) {
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (e) => this.close(e));
    this.socket.on('close', () => this.close(new HttpPoolError('connection closed')));
  }

  get busySince(): number | null {
    return this.current?.startedAt ?? null;
  }

  send(p: Pending): void {
    this.current = p;
    p.startedAt = performance.now();
    this.socket.write(p.payload);
  }

  close(e: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    const p = this.current;
    this.current = null;
    p?.reject(e);
    this.onClose(this);
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const end = this.buf.indexOf(HEADER_END);
    if (end < 0) return;
    const head = this.buf.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (m === null) {
      this.close(new HttpPoolError(`response without Content-Length (status ${status})`));
      return;
    }
    const total = end + 4 + Number(m[1]);
    if (this.buf.length < total) return;
    const body = this.buf.subarray(end + 4, total);
    this.buf = Buffer.alloc(0);
    const p = this.current;
    this.current = null;
    p?.resolve({ status, body });
    if (/\r\nconnection:\s*close/i.test(head)) this.close(new HttpPoolError('server closed the connection'));
    else this.onIdle(this);
  }
}

/** Up to `maxConnections` kept-alive connections to one server; requests beyond them wait. */
export class HttpPool {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly queued: Pending[] = [];
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly maxConnections = 256,
    private readonly timeoutMs = 10_000,
  ) {
    // One timer for every request: a stuck one fails and its connection is dropped.
    this.sweeper = setInterval(() => {
      const now = performance.now();
      for (const c of this.all) {
        const since = c.busySince;
        if (since !== null && now - since > this.timeoutMs) c.close(new HttpPoolError(`no answer in ${this.timeoutMs} ms`));
      }
    }, 500);
    this.sweeper.unref();
  }

  static forUrl(url: string, maxConnections?: number): HttpPool {
    const u = new URL(url);
    return new HttpPool(u.hostname, Number(u.port), maxConnections);
  }

  post(path: string, json: string): Promise<HttpResponse> {
    const payload =
      `POST ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
    return new Promise((resolve, reject) => {
      const p: Pending = { payload, resolve, reject, startedAt: 0 };
      const c = this.idle.pop();
      if (c !== undefined) c.send(p);
      else if (this.all.size < this.maxConnections) this.open().send(p);
      else this.queued.push(p);
    });
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const c of [...this.all]) c.close(new HttpPoolError('pool closed'));
  }

  private open(): Connection {
    const c = new Connection(
      this.host,
      this.port,
      (conn) => {
        const next = this.queued.shift();
        if (next !== undefined) conn.send(next);
        else this.idle.push(conn);
      },
      (conn) => {
        this.all.delete(conn);
        const i = this.idle.indexOf(conn);
        if (i >= 0) this.idle.splice(i, 1);
        // Requests waiting for a connection get a fresh one.
        const next = this.queued.shift();
        if (next !== undefined) this.open().send(next);
      },
    );
    this.all.add(c);
    return c;
  }
}
