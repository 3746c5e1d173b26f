import { Constant, Expression, ExpressionType, FunctionUtils } from 'adaptive-expressions';
import { GlobalSettings } from 'adaptivecards-templating';

/**
 * The `${…}` expressions of our card templates as plain functions, with the exact semantics that
 * adaptivecards-templating 2.3.1 gives them through adaptive-expressions 4.23 (AEL), for the part of
 * the language the templates use: property paths, constants, `count`, `length`, `if`, `==`, `>`, `||`.
 * Anything else is refused with `Unsupported`, and the template is then expanded by the library itself
 * (./compiledTemplate.ts).
 *
 * Why: the library evaluates every expression through a fresh memory object, a path string that it
 * builds, splits with a regular expression and walks with a case-insensitive key search, and a fresh
 * options object, per `${…}` per turn: most of a card action's CPU (bench/results.md, issue 13).
 * The expressions are parsed by the library's own parser (Template.parseInterpolatedString), so both
 * see the same tree; test/cards/compiled.test.ts checks both give the same cards.
 *
 * The library's rules kept here, each from its source (adaptive-expressions/lib, adaptivecards-templating/lib):
 * - A path `a.b` is read from `$data` (the innermost `$data`, else `$root`); one that starts with `$`
 *   names a field of the evaluation context (`$root`, `$data`, `$index`, `$host`). Each step finds the
 *   first own key equal to the name ignoring case (InternalFunctionUtils.accessProperty), a numeric
 *   step on an array indexes it, and anything missing or out of range gives `undefined`
 *   (SimpleObjectMemory.getValue).
 * - With substitution on (every expression outside `$when`), a path that gives `undefined` gives the
 *   string `${path}` instead (Template.internalTryEvaluateExpression → Options.nullSubstitution); `==`,
 *   `>`, `||` and the condition of `if` evaluate their arguments without it.
 * - An evaluation error is a value, not an exception: functions fail when an argument fails or does not
 *   verify; `==` and `>` turn a failed argument into `false`; `||` skips it.
 */

/** An expression that uses something outside the subset above: the library expands that template. */
export class Unsupported extends Error {}

/** An AEL evaluation error ({ error } in the library): thrown here, caught where the library checks it. */
export class EvaluationError {
  constructor(
    readonly error: string,
    /** The value that comes with the error: `||` keeps it when no argument holds. */
    readonly value: unknown = undefined,
  ) {}
}

/** The evaluation context of one expansion, as the library's EvaluationContext holds it. */
export interface Scope {
  root: unknown;
  /** The innermost `$data`; `undefined` means `$root`. */
  data: unknown;
  index: unknown;
}

/** Evaluates with or without null substitution; throws EvaluationError where AEL reports an error. */
export type Evaluate = (scope: Scope, substitute: boolean) => unknown;

const isLogicTrue = (value: unknown): boolean => (typeof value === 'boolean' ? value : value != null);

/** InternalFunctionUtils.accessProperty: the first own enumerable key equal to `name` ignoring case. */
function accessProperty(instance: unknown, name: string, lower: string, ascii: boolean): unknown {
  if (!instance) return undefined;
  if (instance instanceof Map) {
    let value = instance.get(name);
    if (value === undefined) {
      const key = Array.from(instance.keys()).find((k: string) => k.toLowerCase() === name.toLowerCase());
      if (key !== undefined) value = instance.get(key);
    }
    return value;
  }
  const record = instance as Record<string, unknown>;
  // for…in visits the own enumerable keys in Object.keys' order, then inherited ones: the first key
  // that matches is the library's match if it is an own key, and when it is inherited there is none.
  // Unlike Object.keys, it allocates nothing.
  for (const key in record) {
    // For an ASCII name, a key can only lower-case to it if it has the same length (no code point
    // lower-cases to more or fewer ASCII letters), so most keys are skipped without lower-casing them.
    if (ascii && key.length !== name.length) continue;
    if (key.toLowerCase() === lower) return Object.hasOwn(record, key) ? record[key] : undefined;
  }
  return undefined;
}

interface Step {
  name: string;
  lower: string;
  ascii: boolean;
  index: number;
}

/** The context field a path starts from: the keys of the library's TemplateObjectMemory, in their order. */
const CONTEXT_FIELDS = ['_memory', '$root', '$data', '$index', '$host', '$_acTemplateVersion'] as const;

function accessor(expression: Expression): Evaluate {
  // FunctionUtils.tryAccumulatePath, for a chain of plain property accesses.
  let path = '';
  let left: Expression | undefined = expression;
  while (left !== undefined && left.type === ExpressionType.Accessor) {
    const name = left.children[0];
    if (!(name instanceof Constant) || typeof name.value !== 'string') throw new Unsupported(`${expression}: a computed property name`);
    path = `${name.value}.${path}`;
    left = left.children.length === 2 ? left.children[1] : undefined;
  }
  if (left !== undefined) throw new Unsupported(`${expression}: a path through ${left.type}`);
  path = path.replace(/(\.*$)/g, '').replace(/(\.\[)/g, '[');
  if (path === '') throw new Unsupported(`${expression}: an empty path`);
  // TemplateObjectMemory.getValue, then SimpleObjectMemory.getValue's split.
  const actual = path[0] !== '$' ? `$data.${path}` : path;
  const parts = actual
    .split(/[.[\]]+/)
    .filter((u) => u !== '')
    .map((u) => ((u.startsWith('"') && u.endsWith('"')) || (u.startsWith("'") && u.endsWith("'")) ? u.substring(1, u.length - 1) : u));
  const field = CONTEXT_FIELDS.find((k) => k.toLowerCase() === parts[0]!.toLowerCase());
  if (field === '_memory' || field === '$_acTemplateVersion') throw new Unsupported(`${expression}: reads ${field}`);
  const steps: Step[] = parts.slice(1).map((name) => ({ name, lower: name.toLowerCase(), ascii: /^[\x00-\x7f]*$/.test(name), index: parseInt(name) }));
  const substitution = `\${${path}}`;
  return (scope, substitute) => {
    let value: unknown = field === '$data' ? (scope.data !== undefined ? scope.data : scope.root) : field === '$root' ? scope.root : field === '$index' ? scope.index : undefined;
    for (const step of steps) {
      if (!Number.isNaN(step.index) && Array.isArray(value)) {
        if (!(step.index >= 0 && step.index < value.length)) {
          value = undefined;
          break;
        }
        value = value[step.index];
      } else {
        value = accessProperty(value, step.name, step.lower, step.ascii);
      }
    }
    if (value !== undefined || !substitute) return value;
    // The substitution the library installs (Template.internalTryEvaluateExpression).
    const custom = GlobalSettings.getUndefinedFieldValueSubstitutionString?.(path);
    return custom ? custom : substitution;
  };
}

/** FunctionUtils.evaluateChildren with a verifier, then FunctionUtils.apply around `func`. */
function apply(expression: Expression, func: (args: unknown[]) => unknown, verify: (value: unknown, child: Expression, pos: number) => string | undefined): Evaluate {
  const children = expression.children.map((child) => ({ child, evaluate: compileExpression(child) }));
  return (scope, substitute) => {
    const args: unknown[] = [];
    for (let pos = 0; pos < children.length; pos++) {
      const { child, evaluate } = children[pos]!;
      const value = evaluate(scope, substitute);
      const error = verify(value, child, pos);
      if (error) throw new EvaluationError(error);
      args.push(value);
    }
    let value: unknown;
    try {
      value = func(args);
    } catch (e) {
      const error = (e as { message?: unknown }).message;
      if (error) throw new EvaluationError(error as string);
    }
    return value;
  };
}

/** ComparisonEvaluator: arguments without substitution; a failed argument makes the comparison false. */
function comparison(expression: Expression, func: (args: unknown[]) => boolean, verify?: (value: unknown, child: Expression, pos: number) => string | undefined): Evaluate {
  const children = expression.children.map((child) => ({ child, evaluate: compileExpression(child) }));
  return (scope) => {
    const args: unknown[] = [];
    for (let pos = 0; pos < children.length; pos++) {
      const { child, evaluate } = children[pos]!;
      let value: unknown;
      try {
        value = evaluate(scope, false);
      } catch (e) {
        if (e instanceof EvaluationError) return false;
        throw e;
      }
      if (verify?.(value, child, pos)) return false;
      args.push(value);
    }
    try {
      return func(args);
    } catch (e) {
      // An error here is one, and the comparison's value stays false.
      const error = (e as { message?: unknown }).message;
      if (error) throw new EvaluationError(error as string, false);
      return false;
    }
  };
}

function greaterThan(args: unknown[]): boolean {
  const [a, b] = args as [never, never];
  if ((FunctionUtils.isNumber(a) && FunctionUtils.isNumber(b)) || (typeof a === 'string' && typeof b === 'string') || ((a as unknown) instanceof Date && (b as unknown) instanceof Date)) {
    return a > b;
  }
  throw new Error(`${a} and ${b} must be comparable.`);
}

function count(args: unknown[]): unknown {
  const [value] = args;
  if (typeof value === 'string' || Array.isArray(value)) return value.length;
  if (value instanceof Map) return value.size;
  if (typeof value === 'object') return Object.keys(value as object).length;
  return undefined;
}

function or(expression: Expression): Evaluate {
  const children = expression.children.map(compileExpression);
  return (scope) => {
    // As Or.evaluator: the first true argument gives true; otherwise the last argument's value.
    let result: unknown = false;
    for (const child of children) {
      try {
        result = child(scope, false);
      } catch (e) {
        if (!(e instanceof EvaluationError)) throw e;
        result = e.value;
        continue;
      }
      if (isLogicTrue(result)) return true;
    }
    return result;
  };
}

function conditional(expression: Expression): Evaluate {
  const [condition, then, otherwise] = expression.children.map(compileExpression) as [Evaluate, Evaluate, Evaluate];
  return (scope, substitute) => {
    let holds: boolean;
    try {
      holds = isLogicTrue(condition(scope, false));
    } catch (e) {
      if (!(e instanceof EvaluationError)) throw e;
      holds = false;
    }
    return holds ? then(scope, substitute) : otherwise(scope, substitute);
  };
}

/** One expression of the subset as a function; `Unsupported` for anything else. */
export function compileExpression(expression: Expression): Evaluate {
  if (expression instanceof Constant) {
    const value: unknown = expression.value;
    // A constant array or object would be shared by every card the template makes.
    if (value !== null && typeof value === 'object') throw new Unsupported(`${expression}: a constant object`);
    return () => value;
  }
  switch (expression.type) {
    case ExpressionType.Accessor:
      return accessor(expression);
    case ExpressionType.Count:
      if (expression.children.length !== 1) throw new Unsupported(`${expression}: count of ${expression.children.length} arguments`);
      return apply(expression, count, FunctionUtils.verifyContainer);
    case ExpressionType.Length:
      if (expression.children.length !== 1) throw new Unsupported(`${expression}: length of ${expression.children.length} arguments`);
      return apply(expression, (args) => (typeof args[0] === 'string' ? args[0] : '').length, FunctionUtils.verifyStringOrNull);
    case ExpressionType.Equal:
      return comparison(expression, (args) => FunctionUtils.commonEquals(args[0], args[1]));
    case ExpressionType.GreaterThan:
      return comparison(expression, greaterThan, FunctionUtils.verifyNotNull);
    case ExpressionType.Or:
      return or(expression);
    case ExpressionType.If:
      if (expression.children.length !== 3) throw new Unsupported(`${expression}: if of ${expression.children.length} arguments`);
      return conditional(expression);
    default:
      throw new Unsupported(`${expression}: the function ${expression.type}`);
  }
}
