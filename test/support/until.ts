/** Waits (at most `ms`, looking every 5 ms) until `ok` holds; returns whether it did. */
export async function until(ms: number, ok: () => boolean): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
    if (ok()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return ok();
}
