/**
 * The fastest a job can pass a rate limit shaped like OpenAI's: a bucket of capacity C that starts full and
 * refills C per window W. The k-th request (cumulative charge S_k) cannot be admitted before the bucket has
 * refilled S_k − C, i.e. before (S_k − C)·W/C after the first request; the last request then takes one
 * latency. Charges are 1 per request for RPM, and each request's own token charge for TPM.
 */
export interface FloorInput {
  /** C: the bucket's capacity (requests or tokens per window). */
  readonly capacity: number;
  /** W: the refill window in ms (a minute, scaled). */
  readonly windowMs: number;
  /** S_N: the sum of all requests' charges (N for RPM). */
  readonly totalCharge: number;
  /** One request's latency in ms. */
  readonly latencyMs: number;
}

export interface Floor {
  /** When the last request can be admitted, after the first. */
  readonly lastAdmissionMs: number;
  /** lastAdmissionMs plus one latency: the least wall time of the job's requests. */
  readonly floorMs: number;
  /** How many windows the budget alone spans (S_N / C). */
  readonly windows: number;
}

export function rateFloor({ capacity, windowMs, totalCharge, latencyMs }: FloorInput): Floor {
  if (!(capacity > 0) || !(windowMs > 0)) throw new RangeError('capacity and window must be positive');
  const lastAdmissionMs = (Math.max(0, totalCharge - capacity) * windowMs) / capacity;
  return { lastAdmissionMs, floorMs: lastAdmissionMs + latencyMs, windows: totalCharge / capacity };
}

/** The floor of a request budget: N requests of charge 1. */
export function requestFloor(requests: number, rpm: number, windowMs: number, latencyMs: number): Floor {
  return rateFloor({ capacity: rpm, windowMs, totalCharge: requests, latencyMs });
}
