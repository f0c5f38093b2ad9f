/**
 * The import graph's rules, checked on the sources themselves: no import cycles (type-only imports
 * included, which lint's cycle rules skip: a type cycle still ties two rooms together), and `domain/`
 * imports nothing outside `domain/` but pure libraries.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const ROOMS = [
  'domain',
  'workflows',
  'activities',
  'sheets',
  'jobs',
  'lib',
  'worker',
  'api',
  'cli',
  'simulator',
  'bench',
  'scripts',
];

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

/** Every project file each file imports (static, dynamic, type-only), as paths relative to the root. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of ROOMS.flatMap(sourceFiles)) {
    const text = readFileSync(path.join(root, file), 'utf8');
    const imports = ts
      .preProcessFile(text, true, true)
      .importedFiles.map((i) => i.fileName)
      .filter((name) => name.startsWith('.'))
      .map((name) => path.normalize(path.join(path.dirname(file), name.replace(/\.js$/, '.ts'))));
    graph.set(file, imports);
  }
  return graph;
}

/** Strongly connected components of more than one file (Tarjan): each is at least one cycle. */
function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe('the import graph', () => {
  const graph = importGraph();

  it('reads the rooms it checks', () => {
    expect(graph.get('workflows/classify-job.ts')).toContain('domain/job.ts');
  });

  it('has no import cycles, type-only imports included', () => {
    expect(cycles(graph).map((c) => c.join(' ↔ '))).toEqual([]);
  });

  it('finds a cycle when there is one', () => {
    const looped = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(cycles(looped)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('keeps domain/ to itself', () => {
    const outside = [...graph]
      .filter(([file]) => file.startsWith('domain/'))
      .flatMap(([file, imports]) =>
        imports.filter((i) => !i.startsWith('domain/')).map((i) => `${file} → ${i}`),
      );
    expect(outside).toEqual([]);
  });
});
