import { pathToFileURL } from 'node:url';
import type { Handler } from '../queue/handlers.js';

export class HandlersModuleError extends Error {
  readonly code = 'ERR_HANDLERS';
}

/**
 * Loads user task handlers: a module whose default export (or `handlers` export) maps task types
 * to async functions `(task, ctx) => result`. Every entry must be a function; a bad module stops
 * the node at start rather than failing tasks later.
 */
export async function loadHandlers(path: string): Promise<Map<string, Handler>> {
  let mod: { default?: unknown; handlers?: unknown };
  try {
    mod = (await import(pathToFileURL(path).href)) as typeof mod;
  } catch (e) {
    throw new HandlersModuleError(`HANDLERS=${path}: cannot load the module: ${(e as Error).message}`);
  }
  const table = mod.handlers ?? mod.default;
  if (table === null || typeof table !== 'object') {
    throw new HandlersModuleError(`HANDLERS=${path}: expected a default export (or an export named "handlers") mapping task types to functions`);
  }
  const out = new Map<string, Handler>();
  for (const [type, fn] of Object.entries(table)) {
    if (!/^[A-Za-z0-9._:-]{1,64}$/.test(type)) throw new HandlersModuleError(`HANDLERS=${path}: "${type}" is not a valid task type`);
    if (typeof fn !== 'function') throw new HandlersModuleError(`HANDLERS=${path}: the handler for "${type}" is not a function`);
    out.set(type, fn as Handler);
  }
  return out;
}
