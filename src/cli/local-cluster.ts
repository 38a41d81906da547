/**
 * `npm start`: a 3-node cluster on this machine. node-1 creates the cluster, node-2 and node-3 join
 * it, each with its own data directory under ./data. Ctrl+C stops all three cleanly; starting
 * again resumes with the same data.
 *
 * BASE_PORT (default 8080) sets node-1's HTTP port; node-k uses BASE_PORT + k - 1 (gRPC: +1000).
 * Other settings (PARTITIONS, LOG_LEVEL, ...) pass through to every node.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const NODES = 3;
const base = Number(process.env.BASE_PORT ?? '8080');
if (!Number.isInteger(base) || base < 1 || base + NODES - 1 + 1000 > 65535) {
  console.error(`BASE_PORT="${process.env.BASE_PORT ?? ''}": expected a port from 1 to ${65535 - 1000 - NODES + 1}`);
  process.exit(2);
}
const nodeScript = fileURLToPath(new URL('./node.ts', import.meta.url));
const children: ChildProcess[] = [];
let stopping = false;

function start(k: number): ChildProcess {
  const id = `node-${k}`;
  const env: NodeJS.ProcessEnv = { LOG_LEVEL: 'warn', ...process.env, NODE_ID: id, HTTP_ADDR: `127.0.0.1:${base + k - 1}`, DATA_DIR: process.env.DATA_ROOT ? `${process.env.DATA_ROOT}/${id}` : `./data/${id}` };
  if (k > 1) env.JOIN_ADDR = `127.0.0.1:${base}`;
  delete env.BASE_PORT;
  const child = spawn(process.execPath, ['--import', 'tsx', nodeScript], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (line: string): string => `${id.padEnd(7)}| ${line}`;
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') process.stdout.write(`${prefix(line)}\n`);
    });
  }
  child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(prefix(`exited (${signal ?? code}); stopping the others`));
    void stopAll(1);
  });
  return child;
}

async function waitHealthy(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

async function stopAll(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const exits = children.map((c) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r()))));
  for (const c of children) c.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const c of children) c.kill('SIGKILL');
  }, 15_000);
  await Promise.all(exits);
  clearTimeout(timer);
  process.exit(code);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

children.push(start(1));
if (!(await waitHealthy(base, 60_000))) {
  console.error(`node-1 did not come up on port ${base}`);
  await stopAll(1);
}
for (let k = 2; k <= NODES; k++) children.push(start(k));
for (let k = 2; k <= NODES; k++) {
  if (!(await waitHealthy(base + k - 1, 60_000))) {
    console.error(`node-${k} did not come up on port ${base + k - 1}`);
    await stopAll(1);
  }
}
const urls = Array.from({ length: NODES }, (_, i) => `http://127.0.0.1:${base + i}`);
console.log(`\ntaskraft: ${NODES} nodes up\n${urls.map((u, i) => `  node-${i + 1}  ${u}`).join('\n')}\n`);
console.log(`dashboard:  ${urls[0]}/dashboard  (any node serves it)\ntry:  curl -s ${urls[1]}/cluster\n      curl -s ${urls[2]}/health\nCtrl+C stops all three.\n`);
