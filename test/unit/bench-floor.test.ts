import { describe, expect, it } from 'vitest';
import { rateFloor, requestFloor } from '../../bench/floor.js';
import { TokenBucket } from '../../domain/rate.js';

describe('the rate-limit floor of the benchmark', () => {
  it('is (N − C)·W/C plus one latency for a request budget', () => {
    // 249 requests, 40 a 3 s window: 209 wait for refill, one every 75 ms.
    const f = requestFloor(249, 40, 3_000, 200);
    expect(f.lastAdmissionMs).toBeCloseTo(15_675);
    expect(f.floorMs).toBeCloseTo(15_875);
    expect(f.windows).toBeCloseTo(6.225);
  });

  it('is only the latency when the bucket holds every request', () => {
    expect(requestFloor(30, 40, 3_000, 200).floorMs).toBe(200);
  });

  it('uses the sum of the charges for a token budget', () => {
    const f = rateFloor({ capacity: 28_000, windowMs: 3_000, totalCharge: 176_486, latencyMs: 200 });
    expect(f.lastAdmissionMs).toBeCloseTo(((176_486 - 28_000) * 3_000) / 28_000);
  });

  it('matches the earliest admissions of a bucket shaped like the API', () => {
    // Greedy admission against the simulator's own bucket: each request as soon as its charge is there.
    const charges = Array.from({ length: 120 }, (_, i) => 500 + ((i * 37) % 300));
    const capacity = 10_000;
    const bucket = new TokenBucket(capacity, 3_000, 0);
    let now = 0;
    for (const c of charges) {
      now += bucket.waitFor(c, now) + 1e-6; // a hair over, against rounding
      expect(bucket.reserve(c, now)).toBe(0);
    }
    const total = charges.reduce((a, b) => a + b, 0);
    const f = rateFloor({ capacity, windowMs: 3_000, totalCharge: total, latencyMs: 0 });
    expect(now).toBeCloseTo(f.lastAdmissionMs, 0);
  });

  it('rejects a budget that is not positive', () => {
    expect(() => requestFloor(10, 0, 3_000, 200)).toThrow(RangeError);
  });
});
