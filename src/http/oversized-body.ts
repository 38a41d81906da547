import type { IncomingMessage } from 'node:http';
import type { FastifyReply } from 'fastify';

/**
 * How much of an oversized body, in multiples of the body limit, is read and dropped after its 413
 * before the client is cut off.
 */
const DRAIN_FACTOR = 16;

/**
 * Keeps the connection of a request whose body is over the limit, reading and dropping the rest of
 * the body, so that the client reads its 413.
 *
 * Fastify answers such a body at once, before the client has sent it, and asks for the connection
 * to be closed. Closing a socket with unread data in it makes the kernel reset the connection, and
 * a client still sending then loses the answer it has not read yet: undici's fetch failed with
 * EPIPE instead of a 413 in about one try in three against a node in another process (the
 * end-to-end test's 2 MB submit failed that way on 2026-12-02). nginx's lingering close exists for
 * the same reason. The drain is bounded: past DRAIN_FACTOR times `bodyLimit` dropped, the socket
 * is destroyed (the server's request timeout bounds the time).
 */
export function drainOversizedBody(raw: IncomingMessage, reply: FastifyReply, bodyLimit: number): void {
  const maxBytes = bodyLimit * DRAIN_FACTOR;
  reply.removeHeader('connection');
  let dropped = 0;
  raw.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > maxBytes) raw.socket.destroy();
  });
  raw.resume();
}
