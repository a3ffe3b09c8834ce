import { badRequest } from "./errors.js";

/** A compiled `Upstash-Retry-Delay` expression: milliseconds for a given `retried`. */
export type RetryDelayFn = (retried: number) => number;

const FUNCTIONS: Record<string, { arity: [number, number]; fn: (...args: number[]) => number }> = {
  pow: { arity: [2, 2], fn: (a, b) => a! ** b! },
  sqrt: { arity: [1, 1], fn: (a) => Math.sqrt(a!) },
  abs: { arity: [1, 1], fn: (a) => Math.abs(a!) },
  exp: { arity: [1, 1], fn: (a) => Math.exp(a!) },
  floor: { arity: [1, 1], fn: (a) => Math.floor(a!) },
  ceil: { arity: [1, 1], fn: (a) => Math.ceil(a!) },
  round: { arity: [1, 1], fn: (a) => Math.round(a!) },
  min: { arity: [1, 64], fn: (...a) => Math.min(...a) },
  max: { arity: [1, 64], fn: (...a) => Math.max(...a) },
};

type Node = (retried: number) => number;

/**
 * Compiles a retry-delay expression (numbers, `retried`, `+ - * / %`, parentheses and the
 * documented functions) with a small recursive-descent parser into closures. No `eval`: the
 * expression comes from whoever holds a token and must not run code.
 */
export function compileRetryDelay(source: string): RetryDelayFn {
  const tokens = tokenize(source);
  let pos = 0;
  const peek = () => tokens[pos];
  const fail = (why: string): never => {
    throw badRequest(
      `invalid Upstash-Retry-Delay ${JSON.stringify(source)}: ${why}; use an arithmetic expression in milliseconds over \`retried\`, e.g. "pow(2, retried) * 1000"`,
    );
  };
  const expect = (t: string) => {
    if (tokens[pos] !== t)
      fail(`expected "${t}"${tokens[pos] === undefined ? " at the end" : ` before "${tokens[pos]}"`}`);
    pos++;
  };

  const primary = (): Node => {
    const t = tokens[pos++];
    if (t === undefined) return fail("unexpected end");
    if (t === "(") {
      const inner = additive();
      expect(")");
      return inner;
    }
    if (t === "-") {
      const inner = primary();
      return (r) => -inner(r);
    }
    if (t === "+") return primary();
    if (/^(\d+\.?\d*|\.\d+)$/.test(t)) {
      const n = Number(t);
      return () => n;
    }
    if (t === "retried") return (r) => r;
    const f = FUNCTIONS[t];
    if (f) {
      expect("(");
      const args: Node[] = [];
      if (peek() !== ")") {
        args.push(additive());
        while (peek() === ",") {
          pos++;
          args.push(additive());
        }
      }
      expect(")");
      if (args.length < f.arity[0] || args.length > f.arity[1])
        fail(`${t}() takes ${f.arity[0]} argument(s)`);
      return (r) => f.fn(...args.map((a) => a(r)));
    }
    return fail(`unknown name "${t}"`);
  };
  const multiplicative = (): Node => {
    let left = primary();
    while (peek() === "*" || peek() === "/" || peek() === "%") {
      const op = tokens[pos++];
      const l = left;
      const right = primary();
      left =
        op === "*" ? (r) => l(r) * right(r) : op === "/" ? (r) => l(r) / right(r) : (r) => l(r) % right(r);
    }
    return left;
  };
  function additive(): Node {
    let left = multiplicative();
    while (peek() === "+" || peek() === "-") {
      const op = tokens[pos++];
      const l = left;
      const right = multiplicative();
      left = op === "+" ? (r) => l(r) + right(r) : (r) => l(r) - right(r);
    }
    return left;
  }

  if (tokens.length === 0) fail("it is empty");
  const root = additive();
  if (pos !== tokens.length) fail(`unexpected "${tokens[pos]}"`);
  return (retried) => {
    const value = root(retried);
    return Number.isFinite(value) ? Math.max(0, value) : 0;
  };
}

function tokenize(source: string): string[] {
  const out: string[] = [];
  const re = /\s*(?:(\d+\.?\d*|\.\d+)|([A-Za-z_]\w*)|([-+*/%(),]))/y;
  let i = 0;
  while (i < source.length) {
    if (/^\s*$/.test(source.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(source);
    if (!m) {
      throw badRequest(
        `invalid Upstash-Retry-Delay ${JSON.stringify(source)}: unexpected character ${JSON.stringify(source.slice(i).trim()[0])}`,
      );
    }
    out.push(m[1] ?? m[2] ?? m[3]!);
    i = re.lastIndex;
  }
  return out;
}
