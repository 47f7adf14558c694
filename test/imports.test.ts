// The layering rules of ../shared/DESIGN.md ("Layers and folders"), checked on the source:
//
//   core/              imports only core/: no other project folder, no npm package, no Node built-in
//                      (core/*/defs/ import only other defs and core/util/bits, STYLE.md 1)
//   recorder/          core/ (and itself)
//   gdbstub/, dap/     recorder/, and only type imports from core/ (they reach the machine through
//                      the session API)
//   cli/               core/, recorder/, gdbstub/, dap/
//   vscode-extension/  nothing of the project except dap/ (to start the adapter)
//
// plus: no core/ file mentions Date, performance.now, Math.random, setTimeout, setInterval,
// setImmediate, queueMicrotask, process.<x> or require( (STYLE.md 13: all nondeterminism enters
// through ports); and no module-level mutable state in core/ or recorder/ (STYLE.md 13: two machines
// must be able to exist at once): no module-level or class-static `let`/`var`, no mutable static
// field, and no module-level `const` holding a fresh container (`new Map/Set/WeakMap/WeakSet`, a typed
// array, `ArrayBuffer`, `DataView`, `new Array`, or an empty `[]`/`{}` to be filled) unless its type
// is ReadonlyMap/ReadonlySet/readonly array, or it carries the marker `// immutable after load` (a
// table filled once while the module loads and never written again). Every import form counts: `import ... from`, `import 'x'`, `export ... from`,
// dynamic `import('x')`, `require('x')`, `import x = require('x')`, and type-position `import('x')`.
// Files are parsed with the TypeScript compiler, so comments and strings never count.
//
// A self-test runs the checker on synthetic files, so the test is known to be able to fail.

import { builtinModules } from 'node:module';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/guests.js';

const LAYERS = ['core', 'recorder', 'gdbstub', 'dap', 'cli', 'vscode-extension'] as const;
type Layer = (typeof LAYERS)[number];

interface SourceFile {
  /** Repository-relative, with '/' separators. */
  path: string;
  text: string;
}

interface ImportRef {
  line: number;
  specifier: string;
  typeOnly: boolean;
  form: string;
}

interface Violation {
  path: string;
  line: number;
  message: string;
}

/** Every module reference in a file, with whether it is erased at compile time. */
function importsOf(file: SourceFile): ImportRef[] {
  const sf = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: ImportRef[] = [];
  const add = (node: ts.Node, spec: ts.Expression | undefined, typeOnly: boolean, form: string) => {
    if (!spec || !ts.isStringLiteralLike(spec)) return;
    out.push({ line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, specifier: spec.text, typeOnly, form });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const c = node.importClause;
      // `import type ...`, or `import { type A, type B }` (erased when every name is a type).
      const allInlineTypes = !!c && !c.name && !!c.namedBindings && ts.isNamedImports(c.namedBindings) &&
        c.namedBindings.elements.length > 0 && c.namedBindings.elements.every((e) => e.isTypeOnly);
      add(node, node.moduleSpecifier, !!c && (c.isTypeOnly || allInlineTypes), c ? 'import' : 'side-effect import');
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const allInlineTypes = !!node.exportClause && ts.isNamedExports(node.exportClause) &&
        node.exportClause.elements.length > 0 && node.exportClause.elements.every((e) => e.isTypeOnly);
      add(node, node.moduleSpecifier, node.isTypeOnly || allInlineTypes, 'export ... from');
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression, node.isTypeOnly, 'import = require');
    } else if (ts.isCallExpression(node)) {
      if (node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node, node.arguments[0], false, 'dynamic import()');
      else if (ts.isIdentifier(node.expression) && node.expression.text === 'require') add(node, node.arguments[0], false, 'require()');
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, node.argument.literal, true, 'import() type');
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, m.split('/')[0]]));

type Target =
  | { kind: 'project'; layer: Layer | null; path: string }
  | { kind: 'builtin'; name: string }
  | { kind: 'package'; name: string }
  | { kind: 'outside'; path: string };

/** What a specifier in `from` refers to. */
function resolve(from: string, specifier: string): Target {
  if (specifier.startsWith('.') || specifier.startsWith('/')) {
    const p = posix.normalize(specifier.startsWith('/') ? specifier : posix.join(posix.dirname(from), specifier));
    if (p.startsWith('../') || p === '..' || p.startsWith('/')) return { kind: 'outside', path: p };
    const top = p.split('/')[0];
    return { kind: 'project', layer: (LAYERS as readonly string[]).includes(top) ? (top as Layer) : null, path: p };
  }
  if (specifier.startsWith('node:') || NODE_BUILTINS.has(specifier) || NODE_BUILTINS.has(specifier.split('/')[0])) {
    return { kind: 'builtin', name: specifier };
  }
  return { kind: 'package', name: specifier };
}

const layerOf = (path: string): Layer | null =>
  (LAYERS as readonly string[]).includes(path.split('/')[0]) ? (path.split('/')[0] as Layer) : null;

/** Project folders each layer may import at run time (besides itself), and which only as types. */
const ALLOWED: Record<Layer, { value: Layer[]; typeOnly: Layer[]; external: boolean; rule: string }> = {
  core: { value: [], typeOnly: [], external: false, rule: 'core imports nothing outside core/ and no Node built-ins' },
  recorder: { value: ['core'], typeOnly: [], external: true, rule: 'recorder may import core/ only' },
  gdbstub: { value: ['recorder'], typeOnly: ['core'], external: true, rule: 'gdbstub imports recorder/; only `import type` from core/' },
  dap: { value: ['recorder'], typeOnly: ['core'], external: true, rule: 'dap imports recorder/; only `import type` from core/' },
  cli: { value: ['core', 'recorder', 'gdbstub', 'dap'], typeOnly: [], external: true, rule: 'cli may import core/, recorder/, gdbstub/, dap/' },
  'vscode-extension': { value: ['dap'], typeOnly: [], external: true, rule: 'vscode-extension imports nothing of the project except dap/ (to start the adapter)' },
};

/** Identifiers core/ must not use (host time, randomness, timers, the process, CommonJS). */
const CORE_FORBIDDEN_IDENTIFIERS = new Set(['Date', 'setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask']);
const CORE_FORBIDDEN_MEMBERS: [string, string][] = [['performance', 'now'], ['Math', 'random']];

function forbiddenTokens(file: SourceFile): Violation[] {
  const sf = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: Violation[] = [];
  const report = (node: ts.Node, what: string) => out.push({
    path: file.path, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1,
    message: `mentions ${what}: core has no host time, randomness, timers or process access (STYLE.md 13)`,
  });
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node)) {
      if (CORE_FORBIDDEN_IDENTIFIERS.has(node.text)) report(node, node.text);
    } else if (ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) {
      const obj = node.expression;
      const name = ts.isPropertyAccessExpression(node) ? node.name.text
        : ts.isStringLiteralLike(node.argumentExpression) ? node.argumentExpression.text : '';
      const objName = ts.isIdentifier(obj) ? obj.text
        : ts.isPropertyAccessExpression(obj) && ts.isIdentifier(obj.expression) && obj.expression.text === 'globalThis' ? obj.name.text : '';
      if (objName === 'process') report(node, `process.${name}`);
      for (const [o, m] of CORE_FORBIDDEN_MEMBERS) if (objName === o && name === m) report(node, `${o}.${m}`);
    } else if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'require') {
      report(node, 'require(');
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Constructors whose fresh instance is a container that can be written after load. */
const MUTABLE_CONTAINERS = new Set([
  'Map', 'Set', 'WeakMap', 'WeakSet', 'Array', 'ArrayBuffer', 'SharedArrayBuffer', 'DataView',
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
]);
/** Justifies a module-level container: filled once while the module loads, never written afterwards. */
const IMMUTABLE_MARKER = 'immutable after load';

/** Whether an initializer makes a fresh writable container: `new Map(...)`, `new Int32Array(4)`, `[]`, `{}`. */
function isMutableContainer(init: ts.Expression | undefined): boolean {
  while (init && (ts.isParenthesizedExpression(init) || ts.isAsExpression(init) || ts.isSatisfiesExpression(init) ||
    ts.isNonNullExpression(init) || ts.isTypeAssertionExpression(init))) init = init.expression;
  if (!init) return false;
  if (ts.isNewExpression(init)) return ts.isIdentifier(init.expression) && MUTABLE_CONTAINERS.has(init.expression.text);
  if (ts.isArrayLiteralExpression(init)) return init.elements.length === 0;
  if (ts.isObjectLiteralExpression(init)) return init.properties.length === 0;
  return false;
}

/** A declared type that the compiler keeps read-only: ReadonlyMap, ReadonlySet, readonly T[], ReadonlyArray. */
function isReadonlyType(t: ts.TypeNode | undefined): boolean {
  if (!t) return false;
  if (ts.isTypeOperatorNode(t)) return t.operator === ts.SyntaxKind.ReadonlyKeyword;
  return ts.isTypeReferenceNode(t) && ts.isIdentifier(t.typeName) &&
    ['ReadonlyMap', 'ReadonlySet', 'ReadonlyArray'].includes(t.typeName.text);
}

/** Module-level (and class-static) mutable state: STYLE.md 13, two machines must be able to exist at once. */
function moduleState(file: SourceFile): Violation[] {
  const sf = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: Violation[] = [];
  const lineOf = (node: ts.Node) => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
  const report = (node: ts.Node, what: string) => out.push({
    path: file.path, line: lineOf(node),
    message: `module-level mutable state (${what}): keep it per machine, e.g. on the Cpu (STYLE.md 13)`,
  });
  /** The marker in a comment directly above the declaration or at the end of its line. */
  const marked = (stmt: ts.Node): boolean => {
    const comments = [
      ...ts.getLeadingCommentRanges(file.text, stmt.getFullStart()) ?? [],
      ...ts.getTrailingCommentRanges(file.text, stmt.end) ?? [],
    ];
    return comments.some((c) => file.text.slice(c.pos, c.end).includes(IMMUTABLE_MARKER));
  };
  const visitClass = (cls: ts.ClassLikeDeclaration): void => {
    for (const m of cls.members) {
      if (!ts.isPropertyDeclaration(m) || !m.modifiers?.some((x) => x.kind === ts.SyntaxKind.StaticKeyword)) continue;
      const name = m.name.getText(sf);
      if (!m.modifiers.some((x) => x.kind === ts.SyntaxKind.ReadonlyKeyword)) report(m, `static ${name}`);
      else if (isMutableContainer(m.initializer) && !isReadonlyType(m.type) && !marked(m)) report(m, `static readonly ${name} = ${m.initializer!.getText(sf).slice(0, 40)}`);
    }
  };
  for (const stmt of sf.statements) {
    if (ts.isClassDeclaration(stmt)) { visitClass(stmt); continue; }
    if (!ts.isVariableStatement(stmt)) continue;
    const list = stmt.declarationList;
    const isConst = (list.flags & ts.NodeFlags.Const) !== 0;
    for (const d of list.declarations) {
      const name = d.name.getText(sf);
      if (d.initializer && ts.isClassExpression(d.initializer)) visitClass(d.initializer);
      if (!isConst) report(d, `${list.flags & ts.NodeFlags.Let ? 'let' : 'var'} ${name}`);
      else if (isMutableContainer(d.initializer) && !isReadonlyType(d.type) && !marked(stmt)) {
        report(d, `const ${name} = ${d.initializer!.getText(sf).slice(0, 40)}`);
      }
    }
  }
  return out;
}

/** All layering and core-purity violations in a set of files. */
function checkLayers(files: readonly SourceFile[]): Violation[] {
  const out: Violation[] = [];
  for (const f of files) {
    const from = layerOf(f.path);
    if (!from) continue;
    const allowed = ALLOWED[from];
    const isDefs = from === 'core' && /^core\/[^/]+\/defs\//.test(f.path);
    for (const imp of importsOf(f)) {
      const t = resolve(f.path, imp.specifier);
      const bad = (why: string, rule = allowed.rule) =>
        out.push({ path: f.path, line: imp.line, message: `${imp.form} '${imp.specifier}' ${why} — ${rule}` });
      if (t.kind === 'outside') { bad(`resolves outside the repository (${t.path})`); continue; }
      if (t.kind === 'builtin' || t.kind === 'package') {
        if (!allowed.external) bad(t.kind === 'builtin' ? '(a Node built-in)' : '(an npm package)');
        continue;
      }
      if (t.layer === from) {
        if (isDefs && !/^core\/[^/]+\/defs\//.test(t.path) && t.path !== 'core/util/bits.js' && t.path !== 'core/util/bits.ts') {
          bad(`(${t.path})`, 'core/*/defs/ hold data only and import nothing but other defs and core/util/bits (STYLE.md 1)');
        }
        continue;
      }
      if (t.layer === null) { bad(`(${t.path}: not part of the product)`); continue; }
      if (allowed.value.includes(t.layer)) continue;
      if (allowed.typeOnly.includes(t.layer)) {
        if (!imp.typeOnly) bad(`is a run-time import from ${t.layer}/ (use \`import type\`)`);
        continue;
      }
      bad(`(${from}/ must not import ${t.layer}/)`);
    }
    if (from === 'core') out.push(...forbiddenTokens(f));
    if (from === 'core' || from === 'recorder') out.push(...moduleState(f));
  }
  return out;
}

function formatViolations(vs: readonly Violation[]): string {
  return vs.map((v) => `  ${v.path}:${v.line}: ${v.message}`).join('\n');
}

/** Every .ts file under the layer folders that exist (node_modules and build output skipped). */
function projectSources(): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(ROOT, rel)).sort()) {
      if (name === 'node_modules' || name === 'out' || name === 'dist' || name.startsWith('.')) continue;
      const r = `${rel}/${name}`;
      if (statSync(join(ROOT, r)).isDirectory()) walk(r);
      else if (/\.(ts|mts|cts|tsx)$/.test(name)) out.push({ path: r, text: readFileSync(join(ROOT, r), 'utf8') });
    }
  };
  for (const l of LAYERS) if (existsSync(join(ROOT, l))) walk(l);
  return out;
}

describe('layering (DESIGN.md "Layers and folders")', () => {
  const files = projectSources();

  it('finds the sources to check', () => {
    expect(files.filter((f) => f.path.startsWith('core/')).length).toBeGreaterThan(10);
    expect(files.some((f) => f.path.startsWith('cli/'))).toBe(true);
    expect(files.flatMap(importsOf).length).toBeGreaterThan(20);
  });

  it('no folder imports what DESIGN.md forbids, core/ uses no host time, randomness or process, and core/ and recorder/ keep no module-level mutable state', () => {
    const vs = checkLayers(files);
    expect(vs.length, `${vs.length} violation(s):\n${formatViolations(vs)}\n`).toBe(0);
  });
});

describe('the layering checker itself', () => {
  const synthetic: SourceFile[] = [
    { path: 'core/machine/bad.ts', text: [
      "import { readFileSync } from 'node:fs';", // 1 built-in
      "import { join } from 'path';", // 2 bare built-in
      "import type { Session } from '../../recorder/session.js';", // 3 recorder, even as a type
      "export { x } from '../../cli/main.js';", // 4 re-export from cli
      "const m = await import('../../gdbstub/server.js');", // 5 dynamic import
      "import Database from 'better-sqlite3';", // 6 package
      'const t = Date.now();', // 7
      'const p = performance.now();', // 8
      'const r = Math.random();', // 9
      'setTimeout(() => {}, 1);', // 10
      'const id = setInterval(f, 5);', // 11
      'const e = process.env.X;', // 12
      "const fs = require('fs');", // 13: require( and a built-in
      "import '../../test/helpers/prng.js';", // 14 outside the product
    ].join('\n') },
    { path: 'core/machine/fine.ts', text: [
      "import { Vp } from './vp.js';",
      "import type { Insn } from '../x86/decode/insn.js';",
      '// Date, setTimeout and process.env in a comment do not count; Math.random() neither.',
      "/* require('fs') */ const s = 'Date.now() in a string, performance.now()';",
      'const dateless = 1; // identifiers merely containing Date: updateDate',
      'function updateDate(): void {}',
    ].join('\n') },
    { path: 'core/x86/defs/table.ts', text: "import { bit } from '../../util/bits.js';\nimport { EXC } from '../cpu.js';" },
    { path: 'gdbstub/handlers.ts', text: [
      "import type { Machine } from '../core/machine/machine.js';", // fine
      "import { type StopReason } from '../core/machine/machine.js';", // fine: erased
      "import { Machine as M } from '../core/machine/machine.js';", // 3 value import from core
      "import { Session } from '../recorder/session.js';", // fine
      "import net from 'node:net';", // fine
      "export * from '../core/util/bits.js';", // 6 value re-export from core
      "type T = import('../core/machine/events.js').MachineEvent;", // fine: type position
      "import { main } from '../cli/main.js';", // 8 cli
    ].join('\n') },
    { path: 'dap/adapter.ts', text: "import { Vp } from '../core/machine/vp.js';\nimport { DebugSession } from '@vscode/debugadapter';" },
    { path: 'recorder/trace.ts', text: "import { Machine } from '../core/machine/machine.js';\nimport { serve } from '../gdbstub/server.js';" },
    { path: 'cli/main.ts', text: "import { Machine } from '../core/machine/machine.js';\nimport { serve } from '../gdbstub/server.js';\nimport { x } from '../../elsewhere/x.js';" },
    { path: 'core/x86/exec/state.ts', text: [
      'let mx = 0x1f80;', // 1
      'export let outHi = 0, pre = 0;', // 2 (twice)
      'var legacy = 1;', // 3
      'const sbuf = new ArrayBuffer(8);', // 4
      'const S = new Int32Array(4);', // 5
      'export const cache = new Map<string, number>();', // 6
      'const handlers: Handler[] = [];', // 7: an empty table to be filled
      'const seen = new Set() as Set<number>;', // 8
      'class Counter { static count = 0; static readonly pool = new Float64Array(8); }', // 9 (twice)
      'function f(): void { let local = 0; const buf = new Uint8Array(4); local += buf[0]; }', // fine: not module-level
      'const MASKS = [1, 2, 4] as const;', // fine: a constant
      "const NAMES: ReadonlyMap<string, number> = new Map([['a', 1]]);", // fine: read-only type
      'const TABLE = new Uint8Array(256); // immutable after load: filled by the loop below', // fine: marked
      '// immutable after load: filled by def() below',
      'const table: Handler[] = [];', // fine: marked above
      'const LIMIT = 4096, T = buildTables();', // fine
      'const later = new Int32Array(4); // filled later', // 17: a comment without the marker
      'for (let k = 0; k < 256; k++) TABLE[k] = k;', // fine: a loop variable
    ].join('\n') },
    { path: 'recorder/cache.ts', text: 'let nextId = 1;\nexport const traces = new Map<string, unknown>();' },
    { path: 'dap/state.ts', text: 'let seq = 1;\nconst pending = new Map<number, unknown>();' }, // outside the rule
    { path: 'vscode-extension/src/extension.ts', text: [
      "import * as vscode from 'vscode';",
      "import { startAdapter } from '../../dap/main.js';",
      "import { Machine } from '../../core/machine/machine.js';",
    ].join('\n') },
  ];
  const vs = checkLayers(synthetic);
  const at = (path: string) => vs.filter((v) => v.path === path).map((v) => v.line).sort((a, b) => a - b);

  it('reports every kind of violation, with file and line', () => {
    expect(at('core/machine/bad.ts'), formatViolations(vs)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 13, 14]);
    expect(at('core/x86/defs/table.ts')).toEqual([2]);
    expect(at('gdbstub/handlers.ts')).toEqual([3, 6, 8]);
    expect(at('dap/adapter.ts')).toEqual([1]);
    expect(at('recorder/trace.ts')).toEqual([2]);
    expect(at('cli/main.ts')).toEqual([3]);
    expect(at('vscode-extension/src/extension.ts')).toEqual([3]);
    expect(at('core/x86/exec/state.ts'), formatViolations(vs)).toEqual([1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 9, 17]);
    expect(at('recorder/cache.ts')).toEqual([1, 2]);
    expect(at('dap/state.ts')).toEqual([]);
  });

  it('ignores comments, strings and allowed imports', () => {
    expect(at('core/machine/fine.ts'), formatViolations(vs)).toEqual([]);
  });

  it('says which rule was broken, readably', () => {
    const text = formatViolations(vs);
    expect(text).toContain("core/machine/bad.ts:1: import 'node:fs' (a Node built-in) — core imports nothing outside core/ and no Node built-ins");
    expect(text).toContain("gdbstub/handlers.ts:3: import '../core/machine/machine.js' is a run-time import from core/ (use `import type`)");
    expect(text).toContain('core/machine/bad.ts:7: mentions Date');
    expect(text).toContain('core/machine/bad.ts:12: mentions process.env');
    expect(text).toContain('core/x86/exec/state.ts:1: module-level mutable state (let mx): keep it per machine');
    expect(text).toContain('core/x86/exec/state.ts:5: module-level mutable state (const S = new Int32Array(4))');
    expect(text).toContain('core/x86/exec/state.ts:9: module-level mutable state (static count)');
  });
});
