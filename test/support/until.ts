/** Waits (at most `ms`, looking every 5 ms) until `ok` holds; returns whether it did. */
export async function until(ms: number, ok: () => boolean): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
    if (ok()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return ok();
}

/** Waits until `ok` holds, looking every `everyMs`; fails naming `what` after `ms`. */
export async function waitUntil(what: string, ms: number, ok: () => boolean | Promise<boolean>, everyMs = 5): Promise<void> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  if (!(await ok())) throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
}
