import type { FastifyInstance } from 'fastify';
import type { ListFilter } from '../queue/list-tasks.js';
import type { NodeMetrics, SubmitInput, WorkerReport } from '../queue/task-service.js';
import type { Task, TaskStatus } from '../queue/task.js';
import { TASK_ID_PATTERN } from '../queue/task-ids.js';
import type { ClusterWide } from './cluster-wide.js';

/** What the task routes need (TaskService provides it). */
export interface TaskApi {
  submit(inputs: readonly SubmitInput[]): Promise<{ task: Task; created: boolean }[]>;
  get(id: string, linearizable: boolean): Promise<Task>;
  wait(id: string, timeoutMs: number): Promise<Task>;
  cancel(id: string): Promise<Task>;
  retry(id: string): Promise<Task>;
  retryDead(queue: string | null, type: string | null, limit: number): Promise<number>;
  list(f: ListFilter): { tasks: Task[]; nextCursor: string | null };
  stats(): Record<string, unknown>;
  metrics(): NodeMetrics;
  claimFor(owner: string, max: number, types: readonly string[] | null, waitMs: number): Promise<Task[]>;
  finish(id: string, token: number, outcome: WorkerReport): Promise<Task>;
}

const name = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' } as const;
const id = { type: 'string', pattern: TASK_ID_PATTERN } as const;
const DAY = 86_400_000;

const submitSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: name,
    payload: {},
    id,
    queue: name,
    priority: { type: 'integer', minimum: -1000, maximum: 1000 },
    delayMs: { type: 'integer', minimum: 0, maximum: 365 * DAY },
    runAt: { type: 'integer', minimum: 0 },
    maxAttempts: { type: 'integer', minimum: 1, maximum: 100 },
    backoff: {
      type: 'object',
      additionalProperties: false,
      properties: {
        type: { enum: ['fixed', 'exponential'] },
        delayMs: { type: 'integer', minimum: 0, maximum: DAY },
        maxDelayMs: { type: 'integer', minimum: 0, maximum: 7 * DAY },
        jitter: { type: 'number', minimum: 0, maximum: 1 },
      },
    },
    timeoutMs: { type: 'integer', minimum: 100, maximum: DAY },
  },
} as const;

const consistency = { type: 'object', properties: { consistency: { enum: ['linearizable', 'local'], default: 'linearizable' } } } as const;
const idParam = { type: 'object', required: ['id'], properties: { id } } as const;
const STATUSES: TaskStatus[] = ['pending', 'delayed', 'running', 'completed', 'dead', 'cancelled'];

/** The task API (seed-compatible routes and their REST equivalents). */
export function registerTaskRoutes(app: FastifyInstance, tasks: TaskApi, clusterWide: ClusterWide | null): void {
  app.post<{ Body: SubmitInput }>('/tasks/submit', { schema: { body: submitSchema } }, async (req, reply) => {
    const [r] = await tasks.submit([req.body]);
    return reply.status(r!.created ? 201 : 200).send(r!.task);
  });

  app.post<{ Body: { tasks: SubmitInput[] } }>(
    '/tasks/batch',
    { schema: { body: { type: 'object', additionalProperties: false, required: ['tasks'], properties: { tasks: { type: 'array', minItems: 1, maxItems: 1000, items: submitSchema } } } } },
    async (req, reply) => {
      const rs = await tasks.submit(req.body.tasks);
      return reply.status(201).send({ tasks: rs.map((r) => r.task), created: rs.filter((r) => r.created).length });
    },
  );

  app.get<{ Querystring: { id: string; consistency: 'linearizable' | 'local' } }>(
    '/tasks/status',
    { schema: { querystring: { type: 'object', required: ['id'], properties: { id, consistency: consistency.properties.consistency } } } },
    async (req) => tasks.get(req.query.id, req.query.consistency !== 'local'),
  );

  app.get<{ Querystring: { status?: TaskStatus; type?: string; queue?: string; limit: number; cursor?: string } }>(
    '/tasks/list',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { status: { enum: STATUSES }, type: name, queue: name, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, cursor: id },
        },
      },
    },
    async (req) => tasks.list(stripUndefined(req.query)),
  );

  app.get('/tasks/stats', async () => tasks.stats());

  if (clusterWide !== null) {
    app.get<{ Querystring: { limit: number } }>(
      '/tasks',
      {
        schema: {
          querystring: {
            type: 'object',
            properties: { status: { enum: STATUSES }, type: name, queue: name, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, cursor: id },
          },
        },
      },
      async (req) => clusterWide.list(new URLSearchParams(req.query as unknown as Record<string, string>), req.query.limit),
    );
    app.get('/stats', async () => clusterWide.stats());
  }

  app.get<{ Params: { id: string }; Querystring: { consistency: 'linearizable' | 'local' } }>(
    '/tasks/:id',
    { schema: { params: idParam, querystring: consistency } },
    async (req) => tasks.get(req.params.id, req.query.consistency !== 'local'),
  );

  app.get<{ Params: { id: string }; Querystring: { timeout: number } }>(
    '/tasks/:id/wait',
    { schema: { params: idParam, querystring: { type: 'object', properties: { timeout: { type: 'integer', minimum: 0, maximum: 60_000, default: 30_000 } } } } },
    async (req) => tasks.wait(req.params.id, req.query.timeout),
  );

  app.delete<{ Params: { id: string } }>('/tasks/:id', { schema: { params: idParam } }, async (req) => tasks.cancel(req.params.id));

  app.post<{ Params: { id: string } }>('/tasks/:id/retry', { schema: { params: idParam } }, async (req) => tasks.retry(req.params.id));

  // The dead-letter re-drive, in bulk: after fixing what killed them.
  app.post<{ Body: { queue?: string; type?: string; limit: number } }>(
    '/tasks/retry-dead',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { queue: name, type: name, limit: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 10_000 } },
        },
      },
    },
    async (req) => ({ redriven: await tasks.retryDead(req.body.queue ?? null, req.body.type ?? null, req.body.limit) }),
  );

  // Remote workers, in any language: claim (long-poll), then heartbeat and complete or fail with
  // the claim's fencing token.
  app.post<{ Body: { worker: string; max: number; types?: string[]; waitMs: number } }>(
    '/workers/claim',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['worker'],
          properties: {
            worker: name,
            max: { type: 'integer', minimum: 1, maximum: 100, default: 1 },
            types: { type: 'array', maxItems: 100, items: name },
            waitMs: { type: 'integer', minimum: 0, maximum: 30_000, default: 10_000 },
          },
        },
      },
    },
    async (req) => ({ tasks: await tasks.claimFor(req.body.worker, req.body.max, req.body.types ?? null, req.body.waitMs) }),
  );

  const tokenBody = (extra: Record<string, unknown>, required: string[]) =>
    ({ type: 'object', additionalProperties: false, required: ['token', ...required], properties: { token: { type: 'integer', minimum: 0 }, ...extra } }) as const;

  app.post<{ Params: { id: string }; Body: { token: number; progress?: unknown } }>(
    '/tasks/:id/heartbeat',
    { schema: { params: idParam, body: tokenBody({ progress: {} }, []) } },
    async (req) => tasks.finish(req.params.id, req.body.token, req.body.progress === undefined ? { kind: 'extend' } : { kind: 'extend', progress: req.body.progress }),
  );
  app.post<{ Params: { id: string }; Body: { token: number; result?: unknown } }>(
    '/tasks/:id/complete',
    { schema: { params: idParam, body: tokenBody({ result: {} }, []) } },
    async (req) => tasks.finish(req.params.id, req.body.token, { kind: 'complete', result: req.body.result ?? null }),
  );
  app.post<{ Params: { id: string }; Body: { token: number; error: string } }>(
    '/tasks/:id/fail',
    { schema: { params: idParam, body: tokenBody({ error: { type: 'string', maxLength: 4096 } }, ['error']) } },
    async (req) => tasks.finish(req.params.id, req.body.token, { kind: 'fail', error: req.body.error }),
  );
}

function stripUndefined(q: { status?: TaskStatus; type?: string; queue?: string; limit: number; cursor?: string }): ListFilter {
  return Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)) as unknown as ListFilter;
}
