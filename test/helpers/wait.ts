/**
 * Waiting in tests. Prefer an event to wait for; `until` polls a condition when there is no
 * event to hear, and `sleep` is for the few real-timer tests that must let time pass (kept
 * short: a wait of a second or more belongs in a fake-clock unit test).
 */

/** Waits `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `condition` every 20 ms until it holds; rejects after `timeoutMs` naming `what` (a
 * sentence, or a function that describes the state at the time of failure).
 */
export async function until(condition: () => boolean | Promise<boolean>, what: string | (() => string | Promise<string>), timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      const described = typeof what === 'string' ? `timed out after ${timeoutMs} ms waiting until ${what}` : await what();
      throw new Error(described);
    }
    await sleep(20);
  }
}
