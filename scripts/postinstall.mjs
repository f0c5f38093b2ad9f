// Run by npm after `npm ci` / `npm install` (the root `postinstall`): finds the Temporal CLI or builds it once,
// through scripts/ensure-temporal-cli.ts, so `npm ci && npx verbatim classify ...` needs no step by hand.
// Plain JavaScript, so it starts where tsx (a devDependency) is absent. Each skip says why, in one line.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

function skip(why) {
  process.stderr.write(`verbatim postinstall: ${why}\n`);
  process.exit(0);
}

if (process.env.VERBATIM_SKIP_TEMPORAL_CLI === '1') {
  skip('VERBATIM_SKIP_TEMPORAL_CLI=1: not looking for the Temporal CLI.');
}
if (process.env.TEMPORAL_ADDRESS?.trim()) {
  skip('TEMPORAL_ADDRESS is set: that server is used, no Temporal CLI needed.');
}
let tsx;
try {
  tsx = import.meta.resolve('tsx');
} catch {
  skip('tsx is not installed (a production install): not looking for the Temporal CLI.');
}

const script = fileURLToPath(new URL('ensure-temporal-cli.ts', import.meta.url));
const result = spawnSync(process.execPath, ['--import', tsx, script, '--postinstall'], { stdio: 'inherit' });
if (result.error) throw result.error;
process.exit(result.status ?? 1);
