/**
 * True when no window of arrivals holds more requests than a bucket of `capacity`, refilled at
 * capacity per `windowMs`, could have let through: the budget OpenAI enforces. A "minute" of budget is
 * that bucket, not a fixed count per sliding minute: a full bucket may be spent at once and refills as it
 * goes, so one sliding minute can see up to twice the budget (the floor of the benchmark assumes exactly
 * that). The simulator enforces the same bucket, so its zero 429s say the same from the server's side.
 */
export function withinBudget(
  arrivals: readonly number[],
  capacity: number,
  windowMs: number,
): { ok: boolean; worst: number } {
  let worst = -Infinity;
  for (let i = 0; i < arrivals.length; i += 1) {
    for (let j = i; j < arrivals.length; j += 1) {
      const allowed = capacity + ((arrivals[j] ?? 0) - (arrivals[i] ?? 0)) * (capacity / windowMs);
      worst = Math.max(worst, j - i + 1 - allowed);
    }
  }
  return { ok: worst <= 1, worst };
}
