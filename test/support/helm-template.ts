import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, parseAllDocuments, stringify } from 'yaml';

/**
 * `helm template` for Berth's chart (deploy/helm/berth), as far as its templates go: CI has no helm binary, so the
 * tests render the chart with this instead. It implements the subset of Go's text/template and of Sprig that the chart
 * uses, with their semantics (trim markers, truthiness, variables and their scopes, pipelines, define and include,
 * Helm's `<no value>` printed as nothing), and fails on anything else: a template that steps outside the subset fails
 * the tests rather than being rendered wrong. Printing a number Go would print in exponent notation (1e+06) fails too.
 */

type Pipeline = { decl?: { names: string[]; assign: boolean }; cmds: Operand[][] };
type Operand =
  | { kind: 'dot'; fields: string[] }
  | { kind: 'var'; name: string; fields: string[] }
  | { kind: 'ident'; name: string }
  | { kind: 'literal'; value: unknown }
  | { kind: 'paren'; pipe: Pipeline; fields: string[] };
type Node =
  | { type: 'text'; text: string }
  | { type: 'print'; pipe: Pipeline }
  | { type: 'if'; branches: { cond: Pipeline; body: Node[] }[]; otherwise: Node[] }
  | { type: 'with'; pipe: Pipeline; body: Node[]; otherwise: Node[] }
  | { type: 'range'; pipe: Pipeline; body: Node[]; otherwise: Node[] }
  | { type: 'template'; name: string; pipe?: Pipeline };

export interface Chart {
  name: string;
  version: string;
  appVersion: string;
  /** the default values (values.yaml) */
  values: Record<string, unknown>;
  /** templates/ by file name, parsed; `_*.tpl` files only define */
  templates: Map<string, Node[]>;
  defines: Map<string, Node[]>;
}

export interface Release {
  name: string;
  namespace: string;
  /** merged over the chart's values, as `--values` / `--set` (null removes a key) */
  values?: Record<string, unknown>;
}

export type Rendered = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: unknown }; [k: string]: unknown };

export function loadChart(dir: string): Chart {
  const meta = parseYaml(readFileSync(join(dir, 'Chart.yaml'), 'utf8')) as { name: string; version: string; appVersion: string };
  const defines = new Map<string, Node[]>();
  const templates = new Map<string, Node[]>();
  for (const file of readdirSync(join(dir, 'templates')).sort()) {
    try {
      templates.set(file, parseTemplate(readFileSync(join(dir, 'templates', file), 'utf8'), defines));
    } catch (err) {
      throw new Error(`templates/${file}: ${(err as Error).message}`);
    }
  }
  return { ...meta, values: parseYaml(readFileSync(join(dir, 'values.yaml'), 'utf8')) as Record<string, unknown>, templates, defines };
}

/** Every manifest the chart renders for the release (NOTES.txt and `_*` files excepted), as objects. */
export function renderChart(chart: Chart, release: Release): Rendered[] {
  return [...renderFiles(chart, release)].filter(([file]) => file.endsWith('.yaml')).flatMap(([file, text]) =>
    parseAllDocuments(text).flatMap((doc) => {
      if (doc.errors.length) throw new Error(`templates/${file} renders invalid YAML: ${doc.errors[0].message}\n${text}`);
      const object = doc.toJS() as Rendered | null;
      return object ? [object] : [];
    }),
  );
}

/** What each template renders to, text, by file name (NOTES.txt included). */
export function renderFiles(chart: Chart, release: Release): Map<string, string> {
  const root = {
    Values: mergeValues(chart.values, release.values ?? {}),
    Release: { Name: release.name, Namespace: release.namespace, Service: 'Helm', IsInstall: true, IsUpgrade: false },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
  };
  const out = new Map<string, string>();
  for (const [file, nodes] of chart.templates) {
    if (file.startsWith('_')) continue;
    try {
      out.set(file, execute(nodes, { dot: root, scope: new Scope(undefined, root) }, chart.defines));
    } catch (err) {
      throw new Error(`templates/${file}: ${(err as Error).message}`);
    }
  }
  return out;
}

/** The `.Values` paths the templates read (`.Values.ingress.hosts` → ['ingress', 'hosts']), each once. */
export function valuesPaths(chart: Chart): string[][] {
  const paths = new Map<string, string[]>();
  const chain = (fields: string[]) => {
    const at = fields.indexOf('Values');
    if (at >= 0 && at < fields.length - 1) paths.set(fields.slice(at + 1).join('.'), fields.slice(at + 1));
  };
  const pipe = (p: Pipeline | undefined) => p?.cmds.flat().forEach(operand);
  const operand = (o: Operand) => {
    if (o.kind === 'dot' || o.kind === 'var') chain(o.fields);
    if (o.kind === 'paren') {
      pipe(o.pipe);
      chain(o.fields);
    }
  };
  const walk = (nodes: Node[]): void =>
    nodes.forEach((n) => {
      if (n.type === 'print' || n.type === 'template') pipe(n.pipe);
      if (n.type === 'if') n.branches.forEach((b) => (pipe(b.cond), walk(b.body)));
      if (n.type === 'with' || n.type === 'range') pipe(n.pipe);
      if (n.type === 'if' || n.type === 'with' || n.type === 'range') walk(n.otherwise);
      if (n.type === 'with' || n.type === 'range') walk(n.body);
    });
  [...chart.templates.values(), ...chart.defines.values()].forEach(walk);
  return [...paths.values()];
}

/** Helm's coalescing of values: maps merge key by key, anything else replaces, null deletes. */
function mergeValues(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === null) delete out[key];
    else if (isMap(value) && isMap(out[key])) out[key] = mergeValues(out[key] as Record<string, unknown>, value);
    else out[key] = value;
  }
  return out;
}

// ---------------------------------------------------------------- parsing

/** Text and actions, with `{{-` and `-}}` trimming applied and comments dropped. */
function chunks(src: string): ({ text: string } | { action: string })[] {
  const out: ({ text: string } | { action: string })[] = [];
  let i = 0;
  let trimNext = false;
  for (;;) {
    const open = src.indexOf('{{', i);
    let text = src.slice(i, open < 0 ? undefined : open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open >= 0 && /^-\s/.test(src.slice(open + 2, open + 4))) text = text.replace(/\s+$/, '');
    if (text) out.push({ text });
    if (open < 0) return out;
    let close = open + 2;
    let quote: string | null = null;
    for (; close < src.length; close++) {
      const c = src[close];
      if (quote) {
        if (c === '\\' && quote === '"') close++;
        else if (c === quote) quote = null;
      } else if (c === '"' || c === '`') quote = c;
      else if (src.startsWith('}}', close)) break;
      else if (src.startsWith('/*', close)) {
        close = src.indexOf('*/', close) + 1;
        if (close <= 0) throw new Error(`a comment opened at ${lineOf(src, open)} is never closed`);
      }
    }
    if (close >= src.length) throw new Error(`an action opened at ${lineOf(src, open)} is never closed`);
    let body = src.slice(open + 2, close);
    if (/^-\s/.test(body)) body = body.slice(1);
    trimNext = /\s-$/.test(body);
    if (trimNext) body = body.slice(0, -1);
    body = body.trim();
    if (!(body.startsWith('/*') && body.endsWith('*/'))) out.push({ action: body });
    i = close + 2;
  }
}

const lineOf = (src: string, at: number) => `line ${src.slice(0, at).split('\n').length}`;

type Token = { t: 'str' | 'num' | 'ident' | 'dot' | 'var' | 'fields' | 'punct'; v: string; fields?: string[]; space: boolean };

function tokenize(action: string): Token[] {
  const tokens: Token[] = [];
  const patterns: [Token['t'], RegExp][] = [
    ['str', /^"(?:[^"\\]|\\.)*"|^`[^`]*`/],
    ['num', /^-?\d+(?:\.\d+)?/],
    ['punct', /^(?::=|[|(),=])/],
    ['var', /^\$\w*(?:\.[A-Za-z_]\w*)*/],
    ['fields', /^(?:\.[A-Za-z_]\w*)+/],
    ['dot', /^\./],
    ['ident', /^[A-Za-z_]\w*/],
  ];
  let rest = action;
  let space = true;
  while (rest.length) {
    const ws = /^\s+/.exec(rest);
    if (ws) {
      rest = rest.slice(ws[0].length);
      space = true;
      continue;
    }
    const match = patterns.map(([t, re]) => [t, re.exec(rest)?.[0]] as const).find(([, m]) => m !== undefined);
    if (!match) throw new Error(`cannot read "${rest}" in {{ ${action} }}`);
    const [t, v] = match as [Token['t'], string];
    const token: Token = { t, v, space };
    if (t === 'var' || t === 'fields') {
      const [head, ...fields] = v.split('.');
      token.v = head;
      token.fields = fields;
    }
    tokens.push(token);
    rest = rest.slice(v.length);
    space = false;
  }
  return tokens;
}

class Parser {
  private at = 0;
  constructor(private readonly tokens: Token[], private readonly action: string) {}

  get done(): boolean {
    return this.at >= this.tokens.length;
  }

  peek(): Token | undefined {
    return this.tokens[this.at];
  }

  /** `$a := …`, `$k, $v := …`, `$a = …`, then commands joined by `|`. */
  pipeline(): Pipeline {
    const decl = this.declaration();
    const cmds: Operand[][] = [[]];
    while (!this.done && this.peek()!.v !== ')') {
      const token = this.peek()!;
      if (token.t === 'punct' && token.v === '|') {
        this.at++;
        cmds.push([]);
        continue;
      }
      cmds[cmds.length - 1].push(this.operand());
    }
    if (cmds.some((c) => !c.length)) throw new Error(`an empty command in {{ ${this.action} }}`);
    return { decl, cmds };
  }

  private declaration(): Pipeline['decl'] {
    const names: string[] = [];
    let i = this.at;
    while (this.tokens[i]?.t === 'var' && !this.tokens[i].fields!.length) {
      names.push(this.tokens[i].v);
      if (this.tokens[i + 1]?.v === ',') i += 2;
      else break;
    }
    const op = this.tokens[i + 1];
    if (!names.length || !op || (op.v !== ':=' && op.v !== '=')) return undefined;
    this.at = i + 2;
    return { names, assign: op.v === '=' };
  }

  private operand(): Operand {
    const token = this.tokens[this.at++];
    const fields = (): string[] => {
      const next = this.peek();
      if (next?.t === 'fields' && !next.space) {
        this.at++;
        return next.fields!;
      }
      return [];
    };
    switch (token.t) {
      case 'str':
        return { kind: 'literal', value: token.v.startsWith('`') ? token.v.slice(1, -1) : JSON.parse(token.v) };
      case 'num':
        return { kind: 'literal', value: Number(token.v) };
      case 'dot':
        return { kind: 'dot', fields: [] };
      case 'fields':
        return { kind: 'dot', fields: token.fields! };
      case 'var':
        return { kind: 'var', name: token.v, fields: token.fields! };
      case 'ident':
        if (token.v === 'true' || token.v === 'false') return { kind: 'literal', value: token.v === 'true' };
        if (token.v === 'nil') return { kind: 'literal', value: undefined };
        return { kind: 'ident', name: token.v };
      default:
        if (token.v === '(') {
          const pipe = this.pipeline();
          if (this.tokens[this.at++]?.v !== ')') throw new Error(`an unclosed ( in {{ ${this.action} }}`);
          return { kind: 'paren', pipe, fields: fields() };
        }
        throw new Error(`unexpected "${token.v}" in {{ ${this.action} }}`);
    }
  }
}

const pipelineOf = (text: string): Pipeline => {
  const parser = new Parser(tokenize(text), text);
  const pipe = parser.pipeline();
  if (!parser.done) throw new Error(`unexpected "${parser.peek()!.v}" in {{ ${text} }}`);
  return pipe;
};

/** The nodes of one file; its `define`s go into `defines`. */
function parseTemplate(src: string, defines: Map<string, Node[]>): Node[] {
  const items = chunks(src);
  let at = 0;
  /** nodes up to an `end` or `else` (returned with what ended them), or the end of the file */
  const block = (inside: string | null): { nodes: Node[]; ended: string } => {
    const nodes: Node[] = [];
    while (at < items.length) {
      const item = items[at++];
      if ('text' in item) {
        nodes.push({ type: 'text', text: item.text });
        continue;
      }
      const [keyword] = item.action.split(/\s+/, 1);
      const rest = item.action.slice(keyword.length).trim();
      if (keyword === 'end' || keyword === 'else') {
        if (!inside) throw new Error(`{{ ${item.action} }} outside any block`);
        return { nodes, ended: item.action };
      }
      if (keyword === 'if' || keyword === 'with' || keyword === 'range') {
        const body = block(keyword);
        const node = { pipe: pipelineOf(rest), body: body.nodes, otherwise: [] as Node[] };
        if (keyword === 'if') {
          const branches = [{ cond: node.pipe, body: node.body }];
          let ended = body.ended;
          while (/^else\s+if\s/.test(ended)) {
            const next = block('if');
            branches.push({ cond: pipelineOf(ended.replace(/^else\s+if\s+/, '')), body: next.nodes });
            ended = next.ended;
          }
          const otherwise = ended === 'else' ? block('if') : undefined;
          if ((otherwise?.ended ?? ended) !== 'end') throw new Error(`{{ if ${rest} }} is not closed by {{ end }}`);
          nodes.push({ type: 'if', branches, otherwise: otherwise?.nodes ?? [] });
          continue;
        }
        if (body.ended === 'else') {
          const otherwise = block(keyword);
          if (otherwise.ended !== 'end') throw new Error(`{{ ${keyword} ${rest} }}: {{ ${otherwise.ended} }} after its else`);
          node.otherwise = otherwise.nodes;
        } else if (body.ended !== 'end') throw new Error(`{{ ${keyword} ${rest} }}: {{ ${body.ended} }} is not supported`);
        nodes.push({ type: keyword as 'with' | 'range', ...node });
        continue;
      }
      if (keyword === 'define') {
        const name = JSON.parse(rest) as string;
        const body = block('define');
        if (body.ended !== 'end') throw new Error(`{{ define "${name}" }} has an else`);
        if (defines.has(name)) throw new Error(`"${name}" is defined twice`);
        defines.set(name, body.nodes);
        continue;
      }
      if (keyword === 'template') {
        const [, name, pipe] = /^("(?:[^"\\]|\\.)*")\s*(.*)$/.exec(rest) ?? [];
        if (!name) throw new Error(`{{ ${item.action} }}: a template's name is a string`);
        nodes.push({ type: 'template', name: JSON.parse(name), pipe: pipe ? pipelineOf(pipe) : undefined });
        continue;
      }
      if (['block', 'break', 'continue'].includes(keyword)) throw new Error(`{{ ${keyword} }} is not supported`);
      nodes.push({ type: 'print', pipe: pipelineOf(item.action) });
    }
    if (inside) throw new Error(`a {{ ${inside} }} is never closed by {{ end }}`);
    return { nodes, ended: '' };
  };
  return block(null).nodes;
}

// ---------------------------------------------------------------- execution

class Scope {
  private readonly vars = new Map<string, unknown>();
  constructor(private readonly parent: Scope | undefined, root?: unknown) {
    if (root !== undefined) this.vars.set('$', root);
  }

  child(): Scope {
    return new Scope(this);
  }

  declare(name: string, value: unknown): void {
    this.vars.set(name, value);
  }

  assign(name: string, value: unknown): void {
    if (this.vars.has(name)) this.vars.set(name, value);
    else if (this.parent) this.parent.assign(name, value);
    else throw new Error(`undefined variable ${name}`);
  }

  get(name: string): unknown {
    if (this.vars.has(name)) return this.vars.get(name);
    if (this.parent) return this.parent.get(name);
    throw new Error(`undefined variable ${name}`);
  }
}

interface Context {
  dot: unknown;
  scope: Scope;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Go's truth: false, 0, nil, and empty strings, lists and maps are false. */
function truth(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return true;
}

function field(value: unknown, name: string): unknown {
  if (value === undefined || value === null) throw new Error(`nil pointer evaluating interface {}.${name}`);
  if (!isMap(value)) throw new Error(`can't evaluate field ${name} in type ${typeof value}`);
  return value[name];
}

/** What Go's fmt prints for a value in an action. */
function show(v: unknown): string {
  if (v === undefined || v === null) return ''; // Helm's "<no value>" → ""
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') {
    const exponent = v === 0 ? 0 : Math.floor(Math.log10(Math.abs(v)));
    if (exponent >= 6 || exponent < -4) throw new Error(`${v} prints as ${v.toExponential().replace(/e([+-])(\d)$/, (_m, sign: string, digit: string) => `e${sign}0${digit}`)} in Helm: quote it in the values`);
    return String(v);
  }
  throw new Error(`printing ${JSON.stringify(v)} needs toYaml`);
}

/** Sprig's strval. */
const strval = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '<nil>' : show(v));

function toYaml(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  return stringify(v, { sortMapEntries: true, lineWidth: 0 }).replace(/\n$/, '');
}

const indent = (n: number, s: string) => ' '.repeat(n) + s.replaceAll('\n', `\n${' '.repeat(n)}`);

function printf(format: string, args: unknown[]): string {
  let i = 0;
  return format.replace(/%([%svdq])/g, (_m, verb: string) => {
    if (verb === '%') return '%';
    if (i >= args.length) throw new Error(`printf "${format}": too few arguments`);
    const arg = args[i++];
    if (verb === 'd' && !Number.isInteger(arg)) throw new Error(`printf %d of ${JSON.stringify(arg)}`);
    return verb === 'q' ? JSON.stringify(strval(arg)) : strval(arg);
  });
}

type Fn = (args: unknown[], defines: Map<string, Node[]>) => unknown;
const FUNCTIONS: Record<string, Fn> = {
  include: ([name, data], defines) => {
    const body = defines.get(name as string);
    if (!body) throw new Error(`include: no template "${String(name)}"`);
    return execute(body, { dot: data, scope: new Scope(undefined, data) }, defines);
  },
  toYaml: ([v]) => toYaml(v),
  toString: (args: unknown[]) => strval(args[0]),
  nindent: ([n, s]) => `\n${indent(n as number, s as string)}`,
  indent: ([n, s]) => indent(n as number, s as string),
  quote: (args) => args.filter((a) => a !== undefined && a !== null).map((a) => JSON.stringify(strval(a))).join(' '),
  default: ([fallback, ...given]) => (given.length && truth(given[0]) ? given[0] : fallback),
  empty: ([v]) => !truth(v),
  required: ([message, v]) => {
    if (v === undefined || v === null || v === '') throw new Error(`execution error: ${String(message)}`);
    return v;
  },
  fail: ([message]) => {
    throw new Error(`execution error: ${String(message)}`);
  },
  printf: ([format, ...args]) => printf(format as string, args),
  trunc: ([n, s]) => ((n as number) >= 0 ? (s as string).slice(0, n as number) : (s as string).slice(n as number)),
  trimSuffix: ([suffix, s]) => ((s as string).endsWith(suffix as string) ? (s as string).slice(0, -(suffix as string).length || undefined) : s),
  contains: ([sub, s]) => (s as string).includes(sub as string),
  replace: ([from, to, s]) => (s as string).replaceAll(from as string, to as string),
  ternary: ([yes, no, condition]) => (truth(condition) ? yes : no),
  list: (args) => args,
  has: ([item, list]) => Array.isArray(list) && list.includes(item),
  dict: (args) => {
    if (args.length % 2) throw new Error('dict: an odd number of arguments');
    return Object.fromEntries(Array.from({ length: args.length / 2 }, (_, i) => [strval(args[2 * i]), args[2 * i + 1]]));
  },
  index: ([collection, ...keys]) =>
    keys.reduce((value, key) => {
      if (Array.isArray(value)) {
        if (typeof key !== 'number' || key < 0 || key >= value.length) throw new Error(`index out of range: ${String(key)}`);
        return value[key];
      }
      if (isMap(value)) return value[key as string];
      throw new Error(`index of ${JSON.stringify(value)}`);
    }, collection),
  not: ([v]) => !truth(v),
  and: (args) => args.find((a) => !truth(a)) ?? args[args.length - 1],
  or: (args) => args.find((a) => truth(a)) ?? args[args.length - 1],
  eq: ([a, ...others]) => others.some((b) => a === b),
  ne: ([a, b]) => a !== b,
  len: ([v]) => (Array.isArray(v) || typeof v === 'string' ? v.length : isMap(v) ? Object.keys(v).length : 0),
};

function evaluate(pipe: Pipeline, ctx: Context, defines: Map<string, Node[]>): unknown {
  let value: unknown;
  pipe.cmds.forEach((cmd, i) => {
    const piped = i > 0 ? [value] : [];
    const [head, ...args] = cmd;
    if (head.kind === 'ident') {
      const fn = Object.hasOwn(FUNCTIONS, head.name) ? FUNCTIONS[head.name] : undefined;
      if (!fn) throw new Error(`function "${head.name}" is not supported`);
      value = fn([...args.map((a) => operand(a, ctx, defines)), ...piped], defines);
    } else {
      if (args.length || piped.length) throw new Error('only a function takes arguments');
      value = operand(head, ctx, defines);
    }
  });
  if (pipe.decl) {
    if (pipe.decl.names.length > 1) throw new Error('two variables are for range only');
    if (pipe.decl.assign) ctx.scope.assign(pipe.decl.names[0], value);
    else ctx.scope.declare(pipe.decl.names[0], value);
    return undefined;
  }
  return value;
}

function operand(o: Operand, ctx: Context, defines: Map<string, Node[]>): unknown {
  switch (o.kind) {
    case 'literal':
      return o.value;
    case 'dot':
      return o.fields.reduce(field, ctx.dot);
    case 'var':
      return o.fields.reduce(field, ctx.scope.get(o.name));
    case 'paren':
      return o.fields.reduce(field, evaluate(o.pipe, ctx, defines));
    case 'ident':
      throw new Error(`"${o.name}" is a function: call it in parentheses to pass its value`);
  }
}

function execute(nodes: Node[], ctx: Context, defines: Map<string, Node[]>): string {
  let out = '';
  const inner = (body: Node[], dot: unknown, scope = ctx.scope.child()) => execute(body, { dot, scope }, defines);
  for (const node of nodes) {
    switch (node.type) {
      case 'text':
        out += node.text;
        break;
      case 'print': {
        const value = evaluate(node.pipe, ctx, defines);
        if (!node.pipe.decl) out += show(value);
        break;
      }
      case 'if': {
        const branch = node.branches.find((b) => truth(evaluate(b.cond, ctx, defines)));
        out += inner(branch ? branch.body : node.otherwise, ctx.dot);
        break;
      }
      case 'with': {
        const value = evaluate(node.pipe, ctx, defines);
        out += truth(value) ? inner(node.body, value) : inner(node.otherwise, ctx.dot);
        break;
      }
      case 'range': {
        const { decl, ...pipe } = node.pipe;
        const value = evaluate(pipe, ctx, defines);
        const entries: [unknown, unknown][] = Array.isArray(value)
          ? value.map((v, i) => [i, v])
          : isMap(value)
            ? Object.keys(value).sort().map((k) => [k, value[k]])
            : value === undefined || value === null
              ? []
              : (() => {
                  throw new Error(`range over ${JSON.stringify(value)}`);
                })();
        if (!entries.length) out += inner(node.otherwise, ctx.dot);
        for (const [key, item] of entries) {
          const scope = ctx.scope.child();
          if (decl?.names.length === 1) scope.declare(decl.names[0], item);
          if (decl?.names.length === 2) (scope.declare(decl.names[0], key), scope.declare(decl.names[1], item));
          out += inner(node.body, item, scope);
        }
        break;
      }
      case 'template':
        out += FUNCTIONS.include([node.name, node.pipe ? evaluate(node.pipe, ctx, defines) : undefined], defines);
        break;
    }
  }
  return out;
}
