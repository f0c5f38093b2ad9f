import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';

/** A value that reads as a negative number (`-1`, `-0.5`, `-.5`), not as a flag. */
const NEGATIVE_NUMBER = /^-(?:\d+\.?\d*|\.\d+)$/;

/**
 * `parseArgs`, except that a flag taking a value takes a negative number after it as that value:
 * `--temperature -1` reads as `--temperature=-1` (and is then refused with the flag's range), where Node's
 * parser would call the flag's argument ambiguous.
 */
export function parseFlags<T extends ParseArgsConfig & { args: string[] }>(config: T) {
  const takesValue = new Set<string>();
  for (const [name, option] of Object.entries(config.options ?? {})) {
    if (option.type !== 'string') continue;
    takesValue.add(`--${name}`);
    if (option.short) takesValue.add(`-${option.short}`);
  }
  const args: string[] = [];
  for (let i = 0; i < config.args.length; i++) {
    const arg = config.args[i] ?? '';
    const next = config.args[i + 1];
    if (arg === '--') {
      args.push(...config.args.slice(i));
      break;
    }
    if (takesValue.has(arg) && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      args.push(arg.startsWith('--') ? `${arg}=${next}` : `${arg}${next}`);
      i++;
    } else args.push(arg);
  }
  return parseArgs({ ...config, args });
}
