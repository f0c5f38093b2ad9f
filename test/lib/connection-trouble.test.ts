import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConnectionTrouble } from '../../lib/temporal.js';
import { waitFor } from '../helpers/processes.js';

/** What core forwards while the server is gone: the Debug form of a tonic Status in `error`. */
const REFUSED =
  'Status { code: Unavailable, message: "tcp connect error", source: Some(tonic::transport::Error(Transport, ' +
  'ConnectError(ConnectError("tcp connect error", 127.0.0.1:7233, Os { code: 111, kind: ConnectionRefused })))) }';

function capture() {
  const lines: Array<{ level: number; msg: string; warnings?: number }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

function fakeServer() {
  const state = { up: false };
  return {
    state,
    probe: () => (state.up ? Promise.resolve() : Promise.reject(new Error('UNAVAILABLE'))),
  };
}

describe('ConnectionTrouble', () => {
  it('turns a run of retry warnings into "unreachable" and "reachable again after …", at warn', async () => {
    const { logger, lines } = capture();
    const server = fakeServer();
    const trouble = new ConnectionTrouble(logger);
    trouble.watch({ probe: server.probe });
    for (let attempt = 6; attempt < 46; attempt += 1) {
      const call = attempt % 2 ? 'poll_workflow_task_queue' : 'respond_activity_task_completed';
      expect(trouble.take(`gRPC call ${call} retried ${attempt} times`, { error: REFUSED })).toBe(true);
    }
    expect(trouble.take('Network error while completing activity', { error: REFUSED })).toBe(true);
    await waitFor(() => (lines.length > 0 ? true : undefined), 10_000, 'the first line');
    server.state.up = true;
    await waitFor(() => (lines.length > 1 ? true : undefined), 10_000, 'the second line');

    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [40, 'Temporal server unreachable, retrying…'],
      [
        40,
        expect.stringMatching(
          /^Temporal server reachable again after \d+\.\d s \(41 retry warnings summarised\)$/,
        ),
      ],
    ]);
  });

  it('stays at info when the outage is explained (the embedded server is being restarted)', async () => {
    const { logger, lines } = capture();
    const server = fakeServer();
    const trouble = new ConnectionTrouble(logger);
    trouble.watch({ probe: server.probe, explained: () => true });
    trouble.take('gRPC call poll_activity_task_queue retried 6 times', { error: REFUSED });
    await waitFor(() => (lines.length > 0 ? true : undefined), 10_000, 'the first line');
    server.state.up = true;
    await waitFor(() => (lines.length > 1 ? true : undefined), 10_000, 'the second line');
    expect(lines.map((l) => l.level)).toEqual([30, 30]);
  });

  it('says nothing of a late warning when the server answers, and lets other warnings through', async () => {
    const { logger, lines } = capture();
    const server = fakeServer();
    server.state.up = true;
    const trouble = new ConnectionTrouble(logger);
    expect(trouble.take('gRPC call poll_activity_task_queue retried 6 times', { error: REFUSED })).toBe(
      false, // not watching yet (no connection): passed through unchanged
    );
    trouble.watch({ probe: server.probe });
    expect(trouble.take('Network error while completing activity', { error: REFUSED })).toBe(true);
    expect(trouble.take('Workflow task failed', { error: 'NondeterminismError' })).toBe(false);
    // The probe answers at once: the check ends within a turn of the event loop, and says nothing.
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toEqual([]);
  });
});
