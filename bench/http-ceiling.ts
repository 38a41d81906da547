/**
 * The machine's own ceiling for the partition benchmark's submit figure: a bare fastify server
 * (one route, no validation, no logging) in a child process, driven by the same keep-alive load
 * generator and client count as `npm run bench`. Whatever taskraft's submit path costs comes on
 * top of this.
 *
 *   npm run bench:http-ceiling [-- --seconds 5 --concurrency 64]
 */
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { HttpPool } from './http-pool.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '64' },
    serve: { type: 'string' },
  },
});

if (values.serve !== undefined) {
  const app = Fastify({ logger: false });
  app.post('/tasks/submit', async (req, reply) => reply.status(201).send({ id: (req.body as { id?: string }).id ?? null, status: 'pending' }));
  await app.listen({ port: Number(values.serve), host: '127.0.0.1' });
  process.send?.('listening');
} else {
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  if (!(seconds > 0) || !(concurrency >= 1)) {
    console.error('usage: bench:http-ceiling [--seconds S] [--concurrency C]');
    process.exit(2);
  }
  const port = 21990;
  const child = fork(new URL(import.meta.url).pathname, ['--serve', String(port)], { execArgv: ['--import', 'tsx'] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
      setTimeout(() => reject(new Error('server did not start within 30 s')), 30_000).unref();
    });
    const pool = new HttpPool('127.0.0.1', port, 1024);
    const post = (body: string): Promise<number> =>
      pool.post('/tasks/submit', body).then(
        (res) => res.status,
        () => 0,
      );
    for (const phase of ['warm-up', 'measured']) {
      let n = 0;
      let bad = 0;
      const started = performance.now();
      const end = started + seconds * 1000;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < end) {
            if ((await post(JSON.stringify({ type: 'noop', id: `c-${n++}` }))) !== 201) bad++;
          }
        }),
      );
      const perSec = n / ((performance.now() - started) / 1000);
      if (phase === 'measured') console.log(`bare fastify, ${concurrency} keep-alive clients, ${seconds}s: ${Math.round(perSec)} requests/s (${bad} failed)`);
    }
    pool.close();
  } finally {
    child.kill();
  }
}
