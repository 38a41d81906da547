import { Ajv } from 'ajv';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ClusterView } from '../cluster/cluster-view.js';
import type { JoinReply } from '../generated/taskraft/cluster/JoinReply.js';
import type { JoinMessage } from '../transport/cluster-rpc.js';
import { ClusterWide } from './cluster-wide.js';
import { DASHBOARD_CSP, DASHBOARD_HTML } from './dashboard-page.js';
import { statusOf } from './error-status.js';
import { METRICS_CONTENT_TYPE, processFigures, renderMetrics } from './metrics.js';
import { drainOversizedBody } from './oversized-body.js';
import { registerTaskRoutes, type TaskApi } from './task-routes.js';

/** What the HTTP layer needs from the node (ClusterAgent provides it). */
export interface ClusterControl {
  view(): ClusterView | null;
  join(req: JoinMessage): Promise<JoinReply>;
  decommission(nodeId: string): Promise<void>;
}

export interface AppDeps {
  readonly nodeId: string;
  readonly clusterId: string;
  readonly cluster: ClusterControl;
  /** The task API; absent in tests of the cluster routes alone. */
  readonly tasks?: TaskApi;
  readonly logger: Logger;
  /** Largest request body accepted, in bytes. */
  readonly bodyLimit?: number;
}

const addr = { type: 'string', minLength: 3, maxLength: 300, pattern: '^[^\\s/]+:[0-9]{1,5}$' } as const;

/** The node's HTTP API. Tests drive it with `app.inject()`. */
export function buildApp(deps: AppDeps): FastifyInstance {
  // Per-request lines at info would drown the node's own log; failures are still logged (warn).
  const logger = deps.logger.child({}, { level: deps.logger.isLevelEnabled('debug') ? 'debug' : 'warn' });
  const bodyLimit = deps.bodyLimit ?? 1024 * 1024;
  const app: FastifyInstance = Fastify({ loggerInstance: logger as FastifyBaseLogger, bodyLimit });

  // Bodies are checked as sent: a wrong type or an unknown field is a 400, never silently coerced
  // or stripped. Query strings and path parameters arrive as text, so only they are coerced.
  const strict = new Ajv({ allErrors: true, removeAdditional: false, coerceTypes: false, useDefaults: true });
  const lenient = new Ajv({ allErrors: true, removeAdditional: false, coerceTypes: true, useDefaults: true });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : lenient).compile(schema));

  app.setErrorHandler((err: FastifyError & { code?: string }, req, reply) => {
    if (err.validation !== undefined) {
      return reply.status(400).send({ code: 'ERR_BAD_REQUEST', message: err.message });
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      drainOversizedBody(req.raw, reply, bodyLimit);
      return reply.status(413).send({ code: 'ERR_PAYLOAD_TOO_LARGE', message: `the request body is over the limit of ${bodyLimit} bytes` });
    }
    const status = err.statusCode !== undefined && err.statusCode < 500 ? err.statusCode : statusOf(err.code);
    if (status === 500) req.log.error({ err, url: req.url }, 'request failed');
    return reply.status(status).send({ code: err.code ?? 'ERR_INTERNAL', message: err.message });
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send({ code: 'ERR_NOT_FOUND', message: `no route ${req.method} ${req.url}` }));

  app.get('/health', async (_req, reply) => {
    return reply.send({ status: 'ok', nodeId: deps.nodeId, clusterId: deps.clusterId });
  });

  app.get('/cluster', async (_req, reply) => {
    const view = deps.cluster.view();
    if (view === null) return reply.status(503).send({ code: 'ERR_NO_VIEW', message: 'this node has not heard from the meta leader yet' });
    return reply.send(view);
  });

  app.post<{ Body: { nodeId: string; httpAddr: string; grpcAddr: string; incarnation: string } }>(
    '/cluster/join',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['nodeId', 'httpAddr', 'grpcAddr', 'incarnation'],
          properties: {
            nodeId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$' },
            httpAddr: addr,
            grpcAddr: addr,
            incarnation: { type: 'string', minLength: 8, maxLength: 64 },
          },
        },
      },
    },
    async (req, reply) => {
      const r = await deps.cluster.join(req.body);
      return reply.send({ clusterId: r.clusterId, view: JSON.parse(r.viewJson ?? 'null') as unknown });
    },
  );

  app.post<{ Params: { id: string } }>(
    '/cluster/nodes/:id/decommission',
    { schema: { params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 63 } } } } },
    async (req, reply) => {
      await deps.cluster.decommission(req.params.id);
      return reply.status(202).send({ node: req.params.id, state: 'decommissioning' });
    },
  );

  if (deps.tasks !== undefined) {
    registerTaskRoutes(app, deps.tasks, new ClusterWide(() => deps.cluster.view()));
    app.get('/dashboard', async (_req, reply) =>
      reply
        .header('content-security-policy', DASHBOARD_CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(DASHBOARD_HTML),
    );
    app.get('/', async (_req, reply) => reply.redirect('/dashboard'));
    const tasks = deps.tasks;
    app.get('/metrics', async (_req, reply) => reply.type(METRICS_CONTENT_TYPE).send(renderMetrics(deps.nodeId, tasks.metrics(), processFigures())));
  }
  return app;
}
