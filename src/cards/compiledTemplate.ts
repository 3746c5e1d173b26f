import { Expression, ExpressionType } from 'adaptive-expressions';
import { Template } from 'adaptivecards-templating';
import { compileExpression, EvaluationError, Unsupported, type Evaluate, type Scope } from './expressions';
import { addSubmitFallback, addSubmitFallbacks } from './fallbacks';

/**
 * A card template compiled once into plain functions that expand it as adaptivecards-templating's
 * Template.expand does (template-engine.js of 2.3.1: internalExpand, expandSingleObject), followed by
 * the Action.Submit fallbacks (./fallbacks.ts). A template that uses an expression outside the subset
 * of ./expressions.ts is expanded by the library instead (`engine: 'library'`, with the reason).
 *
 * The library's structural rules kept here:
 * - `$data` (evaluated with substitution) repeats an object once per item of an array, with `$index`;
 *   any other value becomes the one `$data`; an `undefined` item keeps the `$data` before it.
 * - `$when` drops the object unless it evaluates (without substitution, errors as false) to `true`;
 *   a `$when` that is not an expression drops the object when it is truthy.
 * - An object with no copy left is `null`, with one copy that copy, with several an array; an array
 *   drops `null` items and splices array items into itself; a member whose value is `undefined` is
 *   left out; the reserved keys ($data, $when, $root, $index, $host, $_acTemplateVersion) never reach
 *   the card.
 * - A value that is one expression keeps its type (a number stays a number); a string with several
 *   parts is concatenated, a part that fails shows as `${its source}`.
 *
 * Fallbacks: the library's pipeline walked the whole expanded card (addSubmitFallbacks, from the top
 * down). Here an Action.Execute written in the template gets its fallback as it is built. That gives
 * the same card as the walk when no fallback can depend on the order: the node's `type` and `verb` are
 * literal, it has no `fallback` key, and its `data` is not itself an object with a `type` (whose own
 * fallback would then be in the copy the walk makes first). A template where that is not so is
 * walked as before; so is a card into which an expression put an object or array of the data
 * (`foreign`), since such a value could hold an Action.Execute of its own.
 */

export interface CardTemplate {
  readonly engine: 'compiled' | 'library';
  /** Why the library expands this template. */
  readonly reason?: string;
  /** The card for `data` (the template's `$root`), fallbacks added; fresh objects every time. */
  expand(data: object): unknown;
}

/** EvaluationContext._reservedFields: keys that never reach the card. */
const RESERVED = new Set(['$data', '$when', '$root', '$index', '$host', '$_acTemplateVersion']);

interface Expansion extends Scope {
  /** An expression put an object or array from the data into the card. */
  foreign: boolean;
}

type Node = (x: Expansion) => unknown;

const isExpression = (value: unknown): value is Expression => value instanceof Expression;
/**
 * Template strings as the library parses them, each distinct string once: parsing (ANTLR) is what
 * compiling the templates at start-up costs, and half of the strings repeat ("${title}", "${s.cancel}").
 * A parsed expression is only read, so nodes may share it.
 */
const parses = new Map<string, unknown>();
function parsed(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  let result = parses.get(value);
  if (result === undefined) {
    result = Template.parseInterpolatedString(value);
    parses.set(value, result);
  }
  return result;
}

/** Template.internalTryEvaluateExpression(expression, context, true), as a card value or a `$data`. */
function valueExpression(expression: Expression): (x: Expansion) => unknown {
  if (expression.type === ExpressionType.Concat) {
    // The library concatenates the parts itself so that each failing part shows as `${source}`.
    const parts = expression.children.map((child) => ({ evaluate: compileExpression(child), failed: `\${${child.toString()}}` }));
    return (x) => {
      let result = '';
      for (const part of parts) {
        let value: unknown;
        try {
          value = part.evaluate(x, true);
        } catch (e) {
          value = e instanceof EvaluationError || e ? part.failed : undefined;
        }
        result += (value as { toString(): string }).toString();
      }
      return result;
    };
  }
  const evaluate = compileExpression(expression);
  return (x) => {
    try {
      return evaluate(x, true);
    } catch (e) {
      if (e instanceof EvaluationError) throw new Error(e.error);
      throw e;
    }
  };
}

/** A `$when` expression: evaluated without substitution; only `true` keeps the object. */
function whenExpression(expression: Expression): (x: Expansion) => boolean {
  if (expression.type === ExpressionType.Concat) throw new Unsupported(`$when "${expression}" is a string of several parts`);
  const evaluate: Evaluate = compileExpression(expression);
  return (x) => {
    try {
      const value = evaluate(x, false);
      return typeof value === 'boolean' && value;
    } catch (e) {
      if (e instanceof EvaluationError) return false;
      throw e;
    }
  };
}

/**
 * Whether every Action.Execute of the template can take its fallback as it is built (see above);
 * false means the expanded card is walked instead.
 */
function fallbacksAtBuild(node: unknown): boolean {
  if (Array.isArray(node)) return node.every(fallbacksAtBuild);
  if (!node || typeof node !== 'object') return true;
  const record = node as Record<string, unknown>;
  if (isExpression(parsed(record.type))) return false;
  if (record.type === 'Action.Execute') {
    if (isExpression(parsed(record.verb)) || Object.hasOwn(record, 'fallback')) return false;
    const data = record.data;
    if (data && typeof data === 'object' && !Array.isArray(data) && Object.hasOwn(data, 'type')) return false;
  }
  return Object.values(record).every(fallbacksAtBuild);
}

/** A compiled template value: a constant, an expression (which may give `undefined`), or an object or array. */
type Compiled = { kind: 'constant'; value: unknown } | { kind: 'expression'; node: Node } | { kind: 'structure'; node: Node };

const asNode = (c: Compiled): Node => (c.kind === 'constant' ? () => c.value : c.node);

/**
 * A function that makes one copy of an object node from its members, generated once per node when
 * the template is compiled, so that each copy is an object literal: V8 then creates it with its final
 * shape in one step, where adding the members one by one under computed names cost about ten times
 * more and left more garbage (bench/results.md, issue 13). The generated source holds only the
 * template's own keys, as JSON string literals, and local names; no data ever becomes code. A member
 * whose expression gave `undefined` is left out, as the library does.
 *
 * With `withFallback`, the node is an Action.Execute that takes its fallback as it is built (see the
 * top of this file): the fallback is made here, as addSubmitFallback makes it, so that the copy of the
 * action's data is spread at a site that only ever sees this node's data (a shared spread site cost
 * as much as the rest of the card).
 */
function objectFactory(keys: readonly string[], members: readonly Compiled[], withFallback: boolean): (x: Expansion) => Record<string, unknown> {
  const value = (k: number): string => (k < 0 ? 'undefined' : members[k]!.kind === 'constant' ? `c${k}` : `v${k}`);
  const setup = members.map((m, k) => (m.kind === 'constant' ? `const c${k} = members[${k}].value;` : `const f${k} = members[${k}].node;`));
  const evaluate = members.flatMap((m, k) => (m.kind === 'constant' ? [] : [`const v${k} = f${k}(x);`]));
  const optional = members.flatMap((m, k) => (m.kind === 'expression' ? [`v${k} === undefined`] : []));
  const name = (k: number): string => JSON.stringify(keys[k]!);
  const sparse = keys.map((_, k) => (members[k]!.kind === 'expression' ? `if (v${k} !== undefined) o[${name(k)}] = v${k};` : `o[${name(k)}] = ${value(k)};`));
  const literal = keys.map((_, k) => `${name(k)}: ${value(k)}`);
  let fallback: string[] = [];
  if (withFallback) {
    // addSubmitFallback on a copy whose type and verb are the template's constants and that has no
    // fallback member: { type, title, data: { ...data, verb }, associatedInputs when defined }.
    const [title, data, inputs, verb] = ['title', 'data', 'associatedInputs', 'verb'].map((key) => value(keys.indexOf(key)));
    const made = (withInputs: boolean): string =>
      `{ type: "Action.Submit", title: ${title}, data: { ...(${data} && typeof ${data} === "object" ? ${data} : {}), verb: ${verb} }${withInputs ? `, associatedInputs: ${inputs}` : ''} }`;
    fallback = [`const fallback = ${inputs} !== undefined ? ${made(true)} : ${made(false)};`];
    literal.push('fallback: fallback');
    sparse.push('addSubmitFallback(o);');
  }
  const source = [
    '"use strict";',
    ...setup,
    'return function copy(x) {',
    ...evaluate,
    optional.length ? `if (${optional.join(' || ')}) { const o = {}; ${sparse.join(' ')} return o; }` : '',
    ...fallback,
    `return { ${literal.join(', ')} };`,
    '};',
  ].join('\n');
  let factory: (...args: unknown[]) => (x: Expansion) => Record<string, unknown>;
  try {
    factory = new Function('members', 'addSubmitFallback', source) as typeof factory;
  } catch (e) {
    // A Node started with --disallow-code-generation-from-strings: the library expands the template.
    if (e instanceof EvalError) throw new Unsupported(`code generation from strings is not allowed (${e.message})`);
    throw e;
  }
  return factory(members, addSubmitFallback);
}

class Compiler {
  constructor(private readonly fallbacks: boolean) {}

  node(template: unknown): Node {
    return asNode(this.compile(template));
  }

  private compile(template: unknown): Compiled {
    if (Array.isArray(template)) return { kind: 'structure', node: this.array(template) };
    if (template !== null && typeof template === 'object') return { kind: 'structure', node: this.object(template as Record<string, unknown>) };
    const value = parsed(template);
    if (!isExpression(value)) return { kind: 'constant', value };
    const evaluate = valueExpression(value);
    return {
      kind: 'expression',
      node: (x) => {
        const result = evaluate(x);
        if (result !== null && typeof result === 'object') x.foreign = true;
        return result;
      },
    };
  }

  private array(template: readonly unknown[]): Node {
    const items = template.map((item) => this.node(item));
    return (x) => {
      let result: unknown[] = [];
      for (const item of items) {
        const value = item(x);
        if (value === null) continue;
        if (Array.isArray(value)) result = result.concat(value);
        else result.push(value);
      }
      return result;
    };
  }

  private object(template: Record<string, unknown>): Node {
    // JSON.parse makes "__proto__" an own key; assigning it to a card object would set its prototype.
    if (Object.hasOwn(template, '__proto__')) throw new Unsupported('a "__proto__" key');
    const data = this.dataOf(template);
    const when = parsed(template.$when);
    const keep = isExpression(when) ? whenExpression(when) : undefined;
    const dropAlways = keep === undefined && Boolean(when);
    const keys = Object.keys(template).filter((key) => !RESERVED.has(key));
    const fallback = this.fallbacks && template.type === 'Action.Execute' && typeof template.verb === 'string';
    const copy = objectFactory(
      keys,
      keys.map((key) => this.compile(template[key])),
      fallback,
    );
    /** One copy of the object in the current scope, or null when its $when drops it. */
    const build = (x: Expansion): Record<string, unknown> | null => (keep ? !keep(x) : dropAlways) ? null : copy(x);
    if (!data) return build;
    return (x) => {
      const saved = x.data;
      const savedIndex = x.index;
      const value = data(x);
      const indexed = Array.isArray(value);
      const contexts = indexed ? (value as unknown[]) : [value];
      const copies: Record<string, unknown>[] = [];
      for (let i = 0; i < contexts.length; i++) {
        if (indexed) x.index = i;
        if (contexts[i] !== undefined) x.data = contexts[i];
        const made = build(x);
        if (made) copies.push(made);
      }
      x.data = saved;
      x.index = savedIndex;
      return copies.length === 0 ? null : copies.length === 1 ? copies[0] : copies;
    };
  }

  /** `$data`: an expression, or a constant that is not an object (whose parts the library would leave unexpanded). */
  private dataOf(template: Record<string, unknown>): ((x: Expansion) => unknown) | undefined {
    if (!Object.hasOwn(template, '$data') || template.$data === undefined) return undefined;
    const value = parsed(template.$data);
    if (isExpression(value)) return valueExpression(value);
    if (value !== null && typeof value === 'object') throw new Unsupported('a constant object as $data');
    return () => value;
  }
}

/** The library's own expansion plus the fallbacks walk: what cards were before, and the reference in tests. */
export function libraryTemplate(json: unknown, reason?: string): CardTemplate {
  const template = new Template(json);
  return {
    engine: 'library',
    ...(reason !== undefined ? { reason } : {}),
    expand(data) {
      const card: unknown = template.expand({ $root: data });
      addSubmitFallbacks(card);
      return card;
    },
  };
}

/** Compiles `json` (a parsed template); falls back to the library for what the compiler does not support. */
export function loadTemplate(json: unknown): CardTemplate {
  let root: Node;
  const walk = !fallbacksAtBuild(json);
  try {
    root = new Compiler(!walk).node(json);
  } catch (e) {
    if (e instanceof Unsupported) return libraryTemplate(json, e.message);
    throw e;
  }
  return {
    engine: 'compiled',
    expand(data) {
      const x: Expansion = { root: data, data: undefined, index: undefined, foreign: false };
      const card = root(x);
      if (walk || x.foreign) addSubmitFallbacks(card);
      return card;
    },
  };
}
