// Waiting on a condition instead of sleeping a fixed time: a loaded CI machine is slower than any fixed sleep
// assumes, an idle one faster.

/** Resolves once `cond()` holds (checked every `everyMs`); throws after `ms` naming `what`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000, everyMs = 5): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
