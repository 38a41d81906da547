/**
 * `npm run task -- <command>`: submit, read, wait for and cancel tasks from a shell, through the
 * leader-aware client (src/client). Prints the task as JSON; an error prints its code and message
 * on stderr and exits 1 (2 for a bad command line).
 *
 *   npm run task -- submit --type email [--payload '{"to":"a@example.com"}'] [--id ID] [--queue Q]
 *                          [--priority N] [--delay-ms N] [--max-attempts N] [--wait]
 *   npm run task -- status <id> [--local]
 *   npm run task -- wait <id> [--timeout-ms N]
 *   npm run task -- cancel <id>
 *   npm run task -- retry <id>
 *   npm run task -- retry-dead [--queue Q] [--type TYPE] [--limit N]
 *
 * Nodes: --nodes (comma-separated base URLs), else TASKRAFT_NODES, else the three `npm start` runs.
 */
import { parseArgs } from 'node:util';
import { TaskraftClient, TaskraftClientError } from '../client/taskraft-client.js';
import type { SubmitInput } from '../queue/task-service.js';

const USAGE = `usage: task submit --type TYPE [--payload JSON] [--id ID] [--queue Q] [--priority N] [--delay-ms N] [--max-attempts N] [--wait]
       task status ID [--local]
       task wait ID [--timeout-ms N]
       task cancel ID
       task retry ID
       task retry-dead [--queue Q] [--type TYPE] [--limit N]
options: --nodes URL[,URL...] (else TASKRAFT_NODES, else http://127.0.0.1:8080..8082)`;

class UsageError extends Error {}

function integer(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`--${name}: expected an integer, got "${v}"`);
  return n;
}

async function main(argv: string[]): Promise<unknown> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      nodes: { type: 'string' },
      type: { type: 'string' },
      payload: { type: 'string' },
      id: { type: 'string' },
      queue: { type: 'string' },
      priority: { type: 'string' },
      'delay-ms': { type: 'string' },
      'max-attempts': { type: 'string' },
      'timeout-ms': { type: 'string' },
      limit: { type: 'string' },
      wait: { type: 'boolean', default: false },
      local: { type: 'boolean', default: false },
    },
  });
  const nodes = (values.nodes ?? process.env.TASKRAFT_NODES ?? 'http://127.0.0.1:8080,http://127.0.0.1:8081,http://127.0.0.1:8082').split(',').filter((u) => u !== '');
  const client = new TaskraftClient({ nodes });
  const [command, id, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  const needId = (): string => {
    if (id === undefined) throw new UsageError(`${command}: the task ID is missing`);
    return id;
  };
  switch (command) {
    case 'submit': {
      if (values.type === undefined) throw new UsageError('submit: --type is required');
      if (id !== undefined) throw new UsageError('submit: give the ID with --id');
      let payload: unknown;
      if (values.payload !== undefined) {
        try {
          payload = JSON.parse(values.payload);
        } catch (e) {
          throw new UsageError(`--payload: not JSON (${(e as Error).message})`);
        }
      }
      const input: SubmitInput = {
        type: values.type,
        ...(payload === undefined ? {} : { payload }),
        ...(values.id === undefined ? {} : { id: values.id }),
        ...(values.queue === undefined ? {} : { queue: values.queue }),
        ...optional('priority', integer('priority', values.priority)),
        ...optional('delayMs', integer('delay-ms', values['delay-ms'])),
        ...optional('maxAttempts', integer('max-attempts', values['max-attempts'])),
      };
      const task = await client.submit(input);
      return values.wait ? client.wait(task.id, 60_000) : task;
    }
    case 'status':
      return client.get(needId(), values.local ? 'local' : 'linearizable');
    case 'wait':
      return client.wait(needId(), integer('timeout-ms', values['timeout-ms']) ?? 30_000);
    case 'cancel':
      return client.cancel(needId());
    case 'retry':
      return client.retry(needId());
    case 'retry-dead': {
      if (id !== undefined) throw new UsageError('retry-dead: takes no task ID (filter with --queue and --type)');
      const limit = integer('limit', values.limit);
      const redriven = await client.retryDead({
        ...(values.queue === undefined ? {} : { queue: values.queue }),
        ...(values.type === undefined ? {} : { type: values.type }),
        ...optional('limit', limit),
      });
      return { redriven };
    }
    default:
      throw new UsageError(command === undefined ? 'a command is missing' : `unknown command "${command}"`);
  }
}

function optional<K extends string>(key: K, v: number | undefined): Partial<Record<K, number>> {
  return v === undefined ? {} : ({ [key]: v } as Record<K, number>);
}

try {
  console.log(JSON.stringify(await main(process.argv.slice(2)), null, 2));
} catch (e) {
  if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exitCode = 2;
  } else if (e instanceof TaskraftClientError) {
    console.error(`${e.code}: ${e.message}`);
    process.exitCode = 1;
  } else {
    throw e;
  }
}
