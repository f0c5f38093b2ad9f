/**
 * Static checks of the deployment files (no Docker engine runs here): docker-compose.yml, the Dockerfile,
 * .dockerignore and deploy/. The checkers are small functions, tested on bad inputs first, so that every
 * assertion on the real files is known to be able to fail.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTES } from '../../domain/search-attributes.js';
import { ENV_VARIABLES, loadConfig } from '../../lib/config.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

interface Service {
  readonly image?: unknown;
  readonly build?: unknown;
  readonly command?: unknown;
  readonly environment?: unknown;
  readonly volumes?: unknown;
  readonly healthcheck?: { readonly test?: unknown; readonly disable?: unknown };
  readonly depends_on?: unknown;
  readonly ports?: unknown;
  readonly container_name?: unknown;
  readonly stop_grace_period?: unknown;
  readonly entrypoint?: unknown;
  readonly restart?: unknown;
}
interface ComposeFile {
  readonly services: Record<string, Service>;
  readonly volumes?: Record<string, unknown>;
}

// ---- the checkers ----

/** Compose's `${NAME:-default}` / `${NAME-default}` / `${NAME}` as a fresh checkout sees them (no .env). */
function interpolate(value: string): string {
  return value
    .replace(
      /\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}/g,
      (_, fallback: string | undefined) => fallback ?? '',
    )
    .replace(/\$\$/g, '$');
}

/** A service's environment, in map form or list form (`NAME=value`, or `NAME` alone to pass it through). */
function environmentOf(environment: unknown): Map<string, string | undefined> {
  const entries = new Map<string, string | undefined>();
  if (Array.isArray(environment)) {
    for (const item of environment) {
      const [name = '', ...rest] = String(item).split('=');
      entries.set(name, rest.length > 0 ? interpolate(rest.join('=')) : undefined);
    }
  } else if (environment && typeof environment === 'object') {
    for (const [name, value] of Object.entries(environment)) {
      entries.set(name, value === null || value === undefined ? undefined : interpolate(String(value)));
    }
  }
  return entries;
}

/**
 * Pinned: a digest, or a tag that names at least major.minor (`16.13-bookworm`, `1.29.1`); not `latest`,
 * not a floating major (`16`, `20-bookworm-slim`), not untagged.
 */
function imageIsPinned(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  if (colon === -1) return false;
  const tag = lastSegment.slice(colon + 1);
  return tag !== 'latest' && /^v?\d+\.\d+/.test(tag);
}

interface Mount {
  readonly source: string;
  readonly target: string;
  readonly named: boolean;
}

/** Short (`source:target[:mode]`) and long (`{ type, source, target }`) volume syntax. */
function mountsOf(volumes: unknown): Mount[] {
  if (!Array.isArray(volumes)) return [];
  return volumes.map((volume): Mount => {
    if (typeof volume === 'string') {
      const [source = '', target = source] = volume.split(':');
      return { source, target, named: target !== source && !/^[./~]/.test(source) };
    }
    const long = volume as { type?: string; source?: string; target?: string };
    return {
      source: long.source ?? '',
      target: long.target ?? '',
      named: long.type === 'volume' && Boolean(long.source),
    };
  });
}

/** Ports that bind a fixed host port (which a second replica could not bind again). */
function fixedHostPorts(ports: unknown): string[] {
  if (!Array.isArray(ports)) return [];
  return ports
    .filter((port) =>
      typeof port === 'object' && port !== null
        ? (port as { published?: unknown }).published !== undefined
        : String(port).includes(':'),
    )
    .map((port) => JSON.stringify(port));
}

/** `depends_on` in list form or map form, as `{ service: condition }`. */
function dependenciesOf(dependsOn: unknown): Record<string, string> {
  if (Array.isArray(dependsOn))
    return Object.fromEntries(dependsOn.map((name) => [String(name), 'service_started']));
  if (dependsOn && typeof dependsOn === 'object') {
    return Object.fromEntries(
      Object.entries(dependsOn as Record<string, { condition?: string } | null>).map(([name, spec]) => [
        name,
        spec?.condition ?? 'service_started',
      ]),
    );
  }
  return {};
}

/** A dependency cycle as a path (`a → b → a`), or undefined. */
function findCycle(graph: Record<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (node: string, trail: string[]): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'visiting') return [...trail.slice(trail.indexOf(node)), node];
    state.set(node, 'visiting');
    for (const next of graph[node] ?? []) {
      const cycle = visit(next, [...trail, node]);
      if (cycle) return cycle;
    }
    state.set(node, 'done');
    return undefined;
  };
  for (const node of Object.keys(graph)) {
    const cycle = visit(node, []);
    if (cycle) return cycle;
  }
  return undefined;
}

/** The words of a health check's command (`CMD` or `CMD-SHELL` form, or a string); none when it runs nothing. */
function healthcheckCommand(service: Service): string[] {
  const check = service.healthcheck;
  if (!check || check.disable === true) return [];
  const { test } = check;
  const form: readonly unknown[] =
    typeof test === 'string' ? ['CMD-SHELL', test] : Array.isArray(test) ? (test as unknown[]) : [];
  const [kind, ...command] = form;
  if (kind !== 'CMD' && kind !== 'CMD-SHELL') return [];
  const words = command.map((word) => (typeof word === 'string' ? word.trim() : ''));
  return words.some(Boolean) ? words : [];
}

function hasHealthcheck(service: Service): boolean {
  return healthcheckCommand(service).length > 0;
}

/** Services with no health check that runs a command: a missing one, `NONE`, `disable`, an empty command. */
function servicesWithoutHealthcheck(services: Record<string, Service>): string[] {
  return Object.entries(services)
    .filter(([, service]) => !hasHealthcheck(service))
    .map(([name]) => name);
}

/** The scripts (`….sh`) that a health check runs. */
function healthcheckScripts(service: Service): string[] {
  return healthcheckCommand(service).flatMap((word) => word.match(/\/\S+\.sh\b/g) ?? []);
}

/** Compose durations: `90s`, `1m30s`, `2m`, `500ms`. */
function durationSeconds(value: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 1e-6 };
  let total = 0;
  for (const [, amount = '0', unit = 's'] of value.matchAll(/(\d+(?:\.\d+)?)(ms|us|h|m|s)/g)) {
    total += Number(amount) * (units[unit] ?? 1);
  }
  return total;
}

interface Stage {
  readonly base: string;
  readonly name: string | undefined;
  readonly instructions: ReadonlyArray<{ readonly keyword: string; readonly args: string }>;
}

/** FROM stages with their instructions; line continuations joined, comments dropped, global ARGs resolved. */
function dockerStages(dockerfile: string): Stage[] {
  const lines = dockerfile
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const globalArgs = new Map<string, string>();
  const stages: Array<{
    base: string;
    name: string | undefined;
    instructions: Stage['instructions'][number][];
  }> = [];
  for (const line of lines) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [image = '', , name] = args.replace(/--platform=\S+\s+/, '').split(/\s+/);
      const base = image.replace(/\$\{?(\w+)\}?/g, (_, arg: string) => globalArgs.get(arg) ?? '');
      stages.push({ base, name, instructions: [] });
    } else if (stages.length === 0 && upper === 'ARG') {
      const [arg = '', value = ''] = args.split('=');
      globalArgs.set(arg, value);
    } else {
      stages.at(-1)?.instructions.push({ keyword: upper, args });
    }
  }
  return stages;
}

/** A JSON-array (exec form) instruction's words, or the shell form split on spaces. */
function execWords(args: string): string[] {
  return args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/);
}

/** What a .dockerignore excludes, from its patterns in order (later `!` lines re-include). */
function dockerIgnores(dockerignore: string, file: string): boolean {
  let ignored = false;
  for (const raw of dockerignore.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    const pattern = (negate ? line.slice(1) : line).replace(/^\/+|\/+$/g, '');
    const regex = new RegExp(
      `^${pattern
        .split('*')
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*')}(/.*)?$`,
    );
    if (regex.test(file)) ignored = !negate;
  }
  return ignored;
}

/** `--name X --type Y` pairs of a `temporal operator search-attribute create` in a shell script. */
function searchAttributesCreatedBy(script: string): Record<string, string> {
  const command = script
    .replace(/\\\n/g, ' ')
    .split('\n')
    .find((line) => line.includes('search-attribute create'));
  const pairs = command?.matchAll(/--name\s+(\S+)\s+--type\s+(\S+)/g) ?? [];
  return Object.fromEntries([...pairs].map(([, name = '', type = '']) => [name, type]));
}

// ---- the checkers, on inputs they must reject ----

describe('the deployment checks catch what they are meant to', () => {
  it('reject unpinned images', () => {
    for (const image of ['postgres', 'postgres:latest', 'postgres:16', 'node:20-bookworm-slim', 'a/b:main']) {
      expect(imageIsPinned(image), image).toBe(false);
    }
    for (const image of [
      'postgres:16.13-bookworm',
      'temporalio/server:1.29.1',
      `x@sha256:${'a'.repeat(64)}`,
    ]) {
      expect(imageIsPinned(image), image).toBe(true);
    }
  });

  it('read environments in both forms and resolve defaults', () => {
    expect([...environmentOf(['A=1', 'B', 'C=${X:-d}']).entries()]).toEqual([
      ['A', '1'],
      ['B', undefined],
      ['C', 'd'],
    ]);
    expect(environmentOf({ A: '${Y:-}', B: 3 }).get('B')).toBe('3');
    expect(interpolate('pg_isready -U "$$USER" ${Z}')).toBe('pg_isready -U "$USER" ');
  });

  it('tell named volumes, bind mounts and fixed host ports apart', () => {
    expect(mountsOf(['data:/data', './x.yaml:/etc/x.yaml:ro', '/abs:/abs'])).toEqual([
      { source: 'data', target: '/data', named: true },
      { source: './x.yaml', target: '/etc/x.yaml', named: false },
      { source: '/abs', target: '/abs', named: false },
    ]);
    expect(fixedHostPorts(['3000:3000', '127.0.0.1:1:1', '3000', { target: 3000 }])).toHaveLength(2);
    expect(fixedHostPorts([{ target: 3000, published: '3000' }])).toHaveLength(1);
  });

  it('find dependency cycles', () => {
    expect(findCycle({ a: ['b'], b: ['c'], c: ['a'] })).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle({ a: ['b'], b: [], c: ['a', 'b'] })).toBeUndefined();
    expect(dependenciesOf(['a'])).toEqual({ a: 'service_started' });
    expect(durationSeconds('1m30s')).toBe(90);
  });

  it('find every service without a health check that runs a command, one-shots included', () => {
    const services: Record<string, Service> = {
      ok: { healthcheck: { test: ['CMD', 'pg_isready'] } },
      shell: { healthcheck: { test: 'curl -f http://127.0.0.1/' } },
      oneShot: { restart: 'no', entrypoint: ['/bin/sh', '/setup.sh'] },
      none: { healthcheck: { test: ['NONE'] } },
      disabled: { healthcheck: { test: ['CMD', 'true'], disable: true } },
      noCommand: { healthcheck: { test: ['CMD'] } },
      emptyCommand: { healthcheck: { test: ['CMD-SHELL', '  '] } },
      emptyString: { healthcheck: { test: '' } },
      timingsOnly: { healthcheck: {} },
    };
    expect(servicesWithoutHealthcheck(services)).toEqual([
      'oneShot',
      'none',
      'disabled',
      'noCommand',
      'emptyCommand',
      'emptyString',
      'timingsOnly',
    ]);
    expect(
      healthcheckScripts({ healthcheck: { test: ['CMD', '/bin/sh', '/deploy/setup.sh', 'check'] } }),
    ).toEqual(['/deploy/setup.sh']);
    expect(healthcheckScripts({ healthcheck: { test: 'sh /app/x.sh && true' } })).toEqual(['/app/x.sh']);
  });

  it('read Dockerfile stages, with global ARGs resolved', () => {
    const stages = dockerStages(
      'ARG BASE=node:20.20.2-alpine\nFROM ${BASE} AS build\nRUN npm ci \\\n  && npm run build\n# USER node\nFROM ${BASE}\nUSER root\n',
    );
    expect(stages.map((s) => s.base)).toEqual(['node:20.20.2-alpine', 'node:20.20.2-alpine']);
    expect(stages[0]?.instructions).toEqual([{ keyword: 'RUN', args: 'npm ci    && npm run build' }]);
    expect(stages[1]?.instructions).toEqual([{ keyword: 'USER', args: 'root' }]);
  });

  it('apply .dockerignore patterns and exceptions in order', () => {
    const ignore = 'node_modules\n/data/\ndeploy\n!deploy/keep.sh\n*.log\n';
    expect(dockerIgnores(ignore, 'node_modules')).toBe(true);
    expect(dockerIgnores(ignore, 'data/jobs/x')).toBe(true);
    expect(dockerIgnores(ignore, 'deploy/other.sh')).toBe(true);
    expect(dockerIgnores(ignore, 'deploy/keep.sh')).toBe(false);
    expect(dockerIgnores(ignore, '.git')).toBe(false);
  });

  it('read the search attributes a script creates', () => {
    const script =
      'x \\\n  search-attribute create -n ns \\\n  --name A --type Int \\\n  --name B --type Keyword\necho done\n';
    expect(searchAttributesCreatedBy(script)).toEqual({ A: 'Int', B: 'Keyword' });
  });
});

// ---- the real files ----

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as ComposeFile;
  const services = compose.services;
  const names = Object.keys(services);
  const service = (name: string): Service => {
    const found = services[name];
    if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
    return found;
  };
  const dependencies = Object.fromEntries(
    names.map((name) => [name, dependenciesOf(service(name).depends_on)]),
  );
  const oneShots = new Set(
    Object.values(dependencies).flatMap((deps) =>
      Object.entries(deps)
        .filter(([, condition]) => condition === 'service_completed_successfully')
        .map(([name]) => name),
    ),
  );

  it('parses and has every service the app needs', () => {
    expect(services).toBeTypeOf('object');
    for (const name of [
      'postgresql',
      'temporal-schema',
      'temporal',
      'temporal-namespace',
      'temporal-ui',
      'api',
      'worker',
    ]) {
      expect(names, name).toContain(name);
    }
  });

  it('pins every image, and builds the app from the Dockerfile', () => {
    for (const name of names) {
      const { image, build } = service(name);
      if (build !== undefined) {
        const spec =
          typeof build === 'string'
            ? { context: build }
            : (build as { context?: string; dockerfile?: string });
        expect(spec.context, `${name}: build context`).toBe('.');
        expect(spec.dockerfile ?? 'Dockerfile', `${name}: dockerfile`).toBe('Dockerfile');
        expect(existsSync(path.join(root, 'Dockerfile'))).toBe(true);
      } else {
        expect(typeof image, `${name}: image`).toBe('string');
        expect(imageIsPinned(interpolate(String(image))), `${name}: ${String(image)} is not pinned`).toBe(
          true,
        );
      }
    }
    expect(service('api').build).toBeDefined();
    expect(service('worker').build).toBeDefined();
  });

  it('runs the API alone and the workers alone, as the CLI names them', () => {
    expect(service('api').command).toEqual(['serve', '--no-worker']);
    expect(service('worker').command).toEqual(['worker']);
  });

  it('sets only variables that verbatim reads, with values it accepts', () => {
    const known = new Set<string>(ENV_VARIABLES);
    for (const name of ['api', 'worker']) {
      const env = environmentOf(service(name).environment);
      expect(env.size, `${name}: environment`).toBeGreaterThan(0);
      for (const variable of env.keys())
        expect(known.has(variable), `${name}: ${variable} is not in ENV_VARIABLES`).toBe(true);
      expect(env.get('TEMPORAL_ADDRESS'), `${name}: TEMPORAL_ADDRESS`).toBe('temporal:7233');
      // Defaults as a fresh checkout resolves them must pass verbatim's own validation.
      const config = loadConfig(Object.fromEntries(env), '/');
      expect(config.temporal.address).toBe('temporal:7233');
    }
    expect(environmentOf(service('api').environment).get('HOST')).toBe('0.0.0.0');
  });

  it('mounts one named volume at DATA_DIR in the API and every worker', () => {
    const dataMounts = ['api', 'worker'].map((name) => {
      const dataDir = environmentOf(service(name).environment).get('DATA_DIR');
      expect(dataDir, `${name}: DATA_DIR`).toMatch(/^\//);
      const mount = mountsOf(service(name).volumes).find((m) => m.target === dataDir);
      expect(mount, `${name}: nothing mounted at DATA_DIR ${dataDir}`).toBeDefined();
      expect(mount?.named, `${name}: DATA_DIR must be a named volume`).toBe(true);
      expect(Object.keys(compose.volumes ?? {})).toContain(mount?.source);
      return mount?.source;
    });
    expect(new Set(dataMounts).size).toBe(1);
  });

  it('has a health check that runs a command on every service, the one-shots included', () => {
    expect(servicesWithoutHealthcheck(services)).toEqual([]);
  });

  it('runs the scripts of its health checks from where the service has them', () => {
    const dockerfile = dockerStages(read('Dockerfile')).at(-1)?.instructions ?? [];
    const workdir = dockerfile.filter((i) => i.keyword === 'WORKDIR').at(-1)?.args ?? '/';
    const copied = dockerfile
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from='))
      .map((i) => path.posix.resolve(workdir, execWords(i.args).at(-1) ?? ''));
    for (const name of names) {
      const { build, volumes } = service(name);
      const present = build !== undefined ? copied : mountsOf(volumes).map((m) => m.target);
      for (const script of healthcheckScripts(service(name)))
        expect(present, `${name}: the health check runs ${script}, which it does not have`).toContain(script);
    }
  });

  it('runs each one-shot once and waits for it to finish, never for it to be healthy', () => {
    expect(oneShots).toEqual(new Set(['temporal-schema', 'temporal-namespace']));
    for (const name of names) {
      const oneShot = service(name).restart === 'no';
      expect(oneShot, `${name}: restart`).toBe(oneShots.has(name));
      // A one-shot exits: a service that waited for it to be healthy or running would fail or race it.
      for (const [dependent, deps] of Object.entries(dependencies)) {
        if (deps[name] !== undefined && oneShot)
          expect(deps[name], `${dependent} → ${name}`).toBe('service_completed_successfully');
      }
    }
  });

  it('lets the worker scale: no container name, no fixed host port, a stop grace above SHUTDOWN_GRACE', () => {
    const worker = service('worker');
    expect(worker.container_name).toBeUndefined();
    expect(fixedHostPorts(worker.ports)).toEqual([]);
    const grace = Number(environmentOf(worker.environment).get('SHUTDOWN_GRACE') ?? 30);
    expect(
      durationSeconds(typeof worker.stop_grace_period === 'string' ? worker.stop_grace_period : '10s'),
    ).toBeGreaterThan(grace);
  });

  it('orders start-up by existing services, without cycles', () => {
    for (const [name, deps] of Object.entries(dependencies)) {
      for (const [dependency, condition] of Object.entries(deps)) {
        expect(names, `${name} depends on unknown ${dependency}`).toContain(dependency);
        expect(['service_started', 'service_healthy', 'service_completed_successfully']).toContain(condition);
        if (condition === 'service_healthy')
          expect(hasHealthcheck(service(dependency)), dependency).toBe(true);
      }
    }
    expect(
      findCycle(Object.fromEntries(Object.entries(dependencies).map(([n, d]) => [n, Object.keys(d)]))),
    ).toBeUndefined();
    // The app starts only once its namespace and search attributes exist.
    expect(dependencies.api?.['temporal-namespace']).toBe('service_completed_successfully');
    expect(dependencies.worker?.['temporal-namespace']).toBe('service_completed_successfully');
  });

  it('mounts only files that exist', () => {
    for (const name of names) {
      for (const mount of mountsOf(service(name).volumes).filter((m) => !m.named)) {
        expect(existsSync(path.join(root, mount.source)), `${name}: ${mount.source}`).toBe(true);
      }
    }
  });

  it('gives the Temporal server a dynamic config file that exists and parses', () => {
    const temporal = service('temporal');
    const file = environmentOf(temporal.environment).get('DYNAMIC_CONFIG_FILE_PATH') ?? '';
    const target = path.posix.resolve('/etc/temporal', file);
    const mount = mountsOf(temporal.volumes).find((m) => m.target === target);
    expect(mount, `nothing mounted at ${target}`).toBeDefined();
    const config = parse(read(mount?.source ?? '')) as Record<string, unknown>;
    expect(Object.keys(config).length).toBeGreaterThan(0);
    for (const [key, values] of Object.entries(config)) {
      expect(Array.isArray(values), key).toBe(true);
      for (const value of values as unknown[]) expect(value, key).toHaveProperty('value');
    }
  });

  it('registers exactly verbatim’s search attributes in the namespace step', () => {
    const namespace = service('temporal-namespace');
    const script = mountsOf(namespace.volumes).find(
      (m) => !m.named && String(namespace.entrypoint).includes(m.target),
    );
    expect(script, 'the namespace step runs a mounted script').toBeDefined();
    const expected = Object.fromEntries(Object.values(SEARCH_ATTRIBUTES).map((a) => [a.name, a.type]));
    expect(searchAttributesCreatedBy(read(script?.source ?? ''))).toEqual(expected);
    expect(environmentOf(namespace.environment).get('NAMESPACE')).toBe(
      environmentOf(service('api').environment).get('TEMPORAL_NAMESPACE'),
    );
  });
});

describe('Dockerfile', () => {
  const stages = dockerStages(read('Dockerfile'));
  const final = stages.at(-1);
  const instructions = (keyword: string) => final?.instructions.filter((i) => i.keyword === keyword) ?? [];

  it('builds in one stage and runs from another, on Debian (the core bridge needs glibc)', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) {
      expect(stage.base).not.toMatch(/alpine/i);
      expect(imageIsPinned(stage.base), stage.base).toBe(true);
    }
    expect(stages[0]?.instructions.some((i) => i.keyword === 'RUN' && i.args.includes('npm run build'))).toBe(
      true,
    );
  });

  it('installs production dependencies only in the final stage', () => {
    const runs = instructions('RUN').map((i) => i.args);
    expect(runs.some((run) => /npm ci\b.*--omit=dev/.test(run))).toBe(true);
    expect(runs.some((run) => /npm (ci|install)\b(?!.*--omit=dev)/.test(run))).toBe(false);
    expect(instructions('COPY').some((i) => i.args.includes('--from=') && i.args.includes('dist'))).toBe(
      true,
    );
  });

  it('runs as an unprivileged user', () => {
    const user = instructions('USER').at(-1)?.args.split(':')[0];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
  });

  it('runs the compiled CLI, serve by default', () => {
    const entrypoint = execWords(instructions('ENTRYPOINT').at(-1)?.args ?? '[]');
    expect(entrypoint).toEqual(['node', 'dist/cli/main.js']);
    expect(execWords(instructions('CMD').at(-1)?.args ?? '[]')).toEqual(['serve']);
    expect(instructions('HEALTHCHECK')).toHaveLength(1);
  });
});

describe('.dockerignore', () => {
  const dockerignore = read('.dockerignore');

  it('keeps dependencies, local data, secrets and git out of the build context', () => {
    for (const file of [
      'node_modules',
      'node_modules/x/index.js',
      'data',
      'data/jobs/a/input.xlsx',
      '.git',
      '.env',
    ]) {
      expect(dockerIgnores(dockerignore, file), file).toBe(true);
    }
  });

  it('keeps what the build and the image need', () => {
    for (const file of [
      'package.json',
      'package-lock.json',
      'tsconfig.build.json',
      'cli/main.ts',
      'api/public/index.html',
      'deploy/healthcheck.sh',
      'scripts/build-workflow-bundle.ts',
    ]) {
      expect(dockerIgnores(dockerignore, file), file).toBe(false);
    }
  });
});
