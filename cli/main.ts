import { classifyCommand, CLASSIFY_HELP } from './classify.js';
import { describeError, UsageError } from './errors.js';

const HELP = `verbatim: codes open-ended survey answers into categories with an LLM, as durable Temporal jobs.

Usage: verbatim <command> [options]

Commands:
  classify <file> --column <col> --categories-file <file>   code one column (see: verbatim classify --help)
  codeframe <file> --column <col>                            draft the categories from the answers
                                                             (see: verbatim codeframe --help)
  serve                                                      the API and web page, a worker, and (without
                                                             TEMPORAL_ADDRESS) an embedded Temporal server
  worker                                                     a worker alone, to scale out
  simulate                                                   the OpenAI-compatible simulator alone, for dry runs

Configuration comes from the environment (and .env); see README.md.
`;

type Command = (argv: string[]) => Promise<number | void>;

const commands: Record<string, () => Promise<Command>> = {
  classify: () => Promise.resolve(classifyCommand),
  codeframe: async () => (await import('./codeframe.js')).codeframeCommand,
  serve: async () => (await import('./serve.js')).serveCommand,
  worker: async () => (await import('../worker/main.js')).workerCommand,
  simulate: async () => (await import('./simulate.js')).simulateCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`Unknown command "${name}".\n\n${HELP}`);
    return 2;
  }
  try {
    const code = await (await load())(rest);
    return typeof code === 'number' ? code : 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`verbatim ${name}: ${error.message}\n\n${error.help}`);
      return 2;
    }
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(
        `verbatim ${name}: ${error.message}\n\n${name === 'classify' ? CLASSIFY_HELP : name === 'codeframe' ? (await import('./codeframe.js')).CODEFRAME_HELP : HELP}`,
      );
      return 2;
    }
    process.stderr.write(`\nverbatim ${name} failed: ${describeError(error)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
// Everything is closed by now; a stray handle (a socket in its linger time) must not keep the command alive.
setTimeout(() => process.exit(), 3_000).unref();
