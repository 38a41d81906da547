import type { ClusterView } from '../cluster/cluster-view.js';

export interface JoinResult {
  readonly clusterId: string;
  readonly view: ClusterView;
}

/** The cluster refused this node for good (e.g. ERR_NODE_ID_IN_USE): retrying cannot help. */
export class AdmissionRefusedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class JoinTimeoutError extends Error {
  readonly code = 'ERR_JOIN_TIMEOUT';
}

/**
 * Asks the cluster, through any seed's HTTP address, to admit this node. Seeds are tried in turn
 * until one answers; a seed that is down or has no meta leader yet is retried with backoff until
 * `timeoutMs`, so nodes of a new cluster may be started in any order.
 */
export async function joinCluster(
  seeds: readonly string[],
  body: { nodeId: string; httpAddr: string; grpcAddr: string; incarnation: string },
  timeoutMs: number,
  onRetry: (seed: string, reason: string) => void,
): Promise<JoinResult> {
  const deadline = Date.now() + timeoutMs;
  let backoff = 100;
  for (;;) {
    for (const seed of seeds) {
      let reason: string;
      try {
        const res = await fetch(`http://${seed}/cluster/join`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(Math.max(1000, Math.min(10_000, deadline - Date.now()))),
        });
        const payload = (await res.json()) as { clusterId?: string; view?: ClusterView; code?: string; message?: string };
        if (res.ok && typeof payload.clusterId === 'string' && payload.view !== undefined) {
          return { clusterId: payload.clusterId, view: payload.view };
        }
        if (res.status >= 400 && res.status < 500) {
          throw new AdmissionRefusedError(payload.code ?? `HTTP_${res.status}`, payload.message ?? `seed ${seed} answered ${res.status}`);
        }
        reason = `${res.status} ${payload.code ?? ''} ${payload.message ?? ''}`.trim();
      } catch (e) {
        if (e instanceof AdmissionRefusedError) throw e;
        reason = e instanceof Error ? e.message : String(e);
      }
      onRetry(seed, reason);
      if (Date.now() >= deadline) throw new JoinTimeoutError(`no seed of ${seeds.join(', ')} admitted this node within ${timeoutMs} ms (last: ${reason})`);
    }
    await new Promise((r) => setTimeout(r, backoff));
    backoff = Math.min(backoff * 2, 2000);
  }
}
