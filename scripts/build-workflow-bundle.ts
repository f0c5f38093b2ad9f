/**
 * Prebuilds the workflow bundle for the production image (dist/workflow-bundle.js), so that a worker
 * starts without webpack and every worker of a deployment runs byte-identical workflow code.
 */
import fs from 'node:fs/promises';
import { bundleWorkflowCode } from '@temporalio/worker';
import { resolveWorkflowsPath } from '../worker/workers.js';

const { code } = await bundleWorkflowCode({ workflowsPath: resolveWorkflowsPath() });
const target = new URL('../dist/workflow-bundle.js', import.meta.url);
await fs.writeFile(target, code);
process.stdout.write(`workflow bundle: ${target.pathname} (${Math.round(code.length / 1024)} KiB)\n`);
