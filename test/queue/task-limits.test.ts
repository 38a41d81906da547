import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueError } from '../../src/queue/errors.js';
import type { Processor } from '../../src/queue/processor.js';
import { MAX_PAYLOAD_BYTES, TaskService } from '../../src/queue/task-service.js';
import { MAX_PROGRESS_BYTES, type Task, type TaskId } from '../../src/queue/task.js';
import { groupId } from '../../src/storage/key-layout.js';
import { SingleNodeQueue } from '../support/single-node-queue.js';

// The size limits count bytes as they are stored (UTF-8 JSON). The payload limit once counted
// UTF-16 units, so a payload of CJK text three times over the limit was accepted.
describe('size limits of what tasks carry', () => {
  const g = groupId(1);
  let node: SingleNodeQueue;
  let processor: Processor;
  let service: TaskService;
  /** A JSON string of about `bytes` bytes of UTF-8, in 3-byte characters. */
  const cjk = (bytes: number): string => '字'.repeat(Math.floor(bytes / 3));

  beforeAll(async () => {
    node = await SingleNodeQueue.open(1);
    processor = node.processor(new Map());
    service = new TaskService(node.queue, () => node.machines.entries(), processor, node.waiters);
  });

  afterAll(async () => {
    await node.close();
  });

  const refusal = (p: Promise<unknown>): Promise<string> => p.then(
    () => 'accepted',
    (e: unknown) => (e instanceof QueueError ? `${e.code}: ${e.message}` : String(e)),
  );

  it('refuses a payload over the limit in bytes, though under it in characters, and creates nothing', async () => {
    const payload = cjk(MAX_PAYLOAD_BYTES + 300);
    expect(payload.length).toBeLessThan(MAX_PAYLOAD_BYTES);
    expect(await refusal(service.submit([{ id: 'too-big', type: 'x', payload }]))).toBe(`ERR_PAYLOAD_TOO_LARGE: payload is ${Buffer.byteLength(JSON.stringify(payload))} bytes as JSON, over the limit of ${MAX_PAYLOAD_BYTES}`);
    expect(node.machine(g).get('too-big' as TaskId)).toBeUndefined();
    const [ok] = await service.submit([{ id: 'fits', type: 'x', payload: cjk(MAX_PAYLOAD_BYTES - 300) }]);
    expect(ok!.created).toBe(true);
  });

  it("refuses a remote worker's progress over the limit and keeps the last one", async () => {
    await service.submit([{ id: 'work', type: 'remote' }]);
    const [t] = await service.claimFor('w', 1, ['remote'], 1000);
    expect(t?.id).toBe('work');
    const token = t!.fencingToken!;
    await service.finish('work', token, { kind: 'extend', progress: cjk(MAX_PROGRESS_BYTES - 300) });
    expect(await refusal(service.finish('work', token, { kind: 'extend', progress: cjk(MAX_PROGRESS_BYTES + 300) }))).toMatch(/^ERR_PAYLOAD_TOO_LARGE: progress is \d+ bytes as JSON, over the limit of 16384$/);
    expect((node.machine(g).get('work' as TaskId) as Task).progress).toBe(cjk(MAX_PROGRESS_BYTES - 300));
  });
});
