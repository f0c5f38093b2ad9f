import { randomBytes } from 'node:crypto';
import { defineSearchAttributeKey } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, bundleWorkflowCode } from '@temporalio/worker';
import type { WorkflowBundleOption } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../../domain/search-attributes.js';
import { findTemporalCli } from '../../lib/temporal-cli.js';
import { resolveWorkflowsPath } from '../../worker/workers.js';

/** The CLI the tests run as their dev server; `npm test` builds it first when missing (pretest). */
export async function temporalCliPath(): Promise<string> {
  const cli = await findTemporalCli(process.env.TEMPORAL_CLI_PATH?.trim() || undefined);
  if (!cli)
    throw new Error(
      'Temporal CLI not found: run `npm test` (its pretest builds it) or set TEMPORAL_CLI_PATH',
    );
  return cli;
}

let quiet = false;

/** Worker lifecycle logs and the warnings of retried activities (the tests inject faults) would bury the output. */
function quietSdkLogs(): void {
  if (quiet) return;
  quiet = true;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
}

/** A real Temporal dev server for one test file, with verbatim's search attributes registered. */
export async function startTestServer(): Promise<TestWorkflowEnvironment> {
  quietSdkLogs();
  const types = { Keyword: 'KEYWORD', Int: 'INT' } as const;
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: await temporalCliPath() },
      searchAttributes: Object.values(SEARCH_ATTRIBUTES).map((a) =>
        defineSearchAttributeKey(a.name, types[a.type]),
      ),
      extraArgs: [
        '--log-level',
        'error',
        '--dynamic-config-value',
        'history.transferProcessorMaxPollRPS=1000',
      ],
    },
  });
}

let bundle: Promise<WorkflowBundleOption> | undefined;

/** The workflow bundle, built once per test file. */
export function workflowBundle(): Promise<WorkflowBundleOption> {
  bundle ??= bundleWorkflowCode({ workflowsPath: resolveWorkflowsPath(), logger: silentLogger });
  return bundle;
}

/** A task queue of its own for each test, so that workers of different tests never share work. */
export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

const noop = () => {};
const silentLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };
