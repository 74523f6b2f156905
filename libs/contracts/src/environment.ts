import { z } from 'zod';
import { type Issue, ValidationError } from './errors.js';
import { zodIssues } from './validate.js';

/**
 * The environment variables of Orchestra's processes, declared once each: what the variable does,
 * its default as a person reads it, and the zod schema that parses it. Each package declares its
 * own (an EnvSpec), each service's start-up reads them all at once and lists every problem, and
 * the README's table is generated from the same declarations (README, "Configuration").
 */
export interface EnvVariable<T = unknown> {
  readonly description: string;
  /** The default as the README shows it; none: unset means off or absent. */
  readonly default?: string;
  readonly schema: z.ZodType<T>;
}

export type EnvSpec = Readonly<Record<string, EnvVariable>>;
export type EnvValues<S extends EnvSpec> = {
  -readonly [K in keyof S]: S[K] extends EnvVariable<infer T> ? T : never;
};
export type Env = Readonly<Record<string, string | undefined>>;

interface Range {
  min: number;
  max: number;
  /** How the unit reads after a number in messages (`ms`). */
  unit?: string;
}

/** Blank is unset; spaces around a value are dropped. */
const blankIsUnset = (value: unknown) => (typeof value === 'string' ? value.trim() || undefined : value);

function variable<T>(description: string, schema: z.ZodType<T>, shown?: string): EnvVariable<T> {
  return {
    description,
    schema: z.preprocess(blankIsUnset, schema) as unknown as z.ZodType<T>,
    ...(shown === undefined ? {} : { default: shown }),
  };
}

const integerText = ({ min, max, unit }: Range) =>
  z.string().transform((text, ctx) => {
    const value = Number(text);
    if (Number.isInteger(value) && value >= min && value <= max) return value;
    ctx.addIssue({
      code: 'custom',
      message: `must be an integer from ${min} to ${max}${unit ? ` (${unit})` : ''}, got "${text}"`,
    });
    return z.NEVER;
  });

const FLAGS: Record<string, boolean> = { true: true, '1': true, yes: true, on: true };
for (const no of ['false', '0', 'no', 'off']) FLAGS[no] = false;

/** Builders of EnvVariables, one per kind of value. */
export const envVariable = {
  /** Any text; unset: undefined. */
  text: (description: string): EnvVariable<string | undefined> =>
    variable(description, z.string().optional()),

  /** Any text, `fallback` when unset. */
  textOr: (description: string, fallback: string): EnvVariable<string> =>
    variable(description, z.string().default(fallback), fallback),

  /** An integer within `range`, `fallback` when unset. */
  integer: (description: string, range: Range, fallback: number): EnvVariable<number> =>
    variable(description, integerText(range).default(fallback), String(fallback)),

  /** An integer within `range`; unset: undefined (the user of the value applies `shown`). */
  optionalInteger: (description: string, range: Range, shown?: string): EnvVariable<number | undefined> =>
    variable(description, integerText(range).optional(), shown),

  /** true/false (also 1/0, yes/no, on/off, in any case), `fallback` when unset. */
  flag: (description: string, fallback: boolean): EnvVariable<boolean> =>
    variable(
      description,
      z
        .string()
        .transform((text, ctx) => {
          const value = FLAGS[text.toLowerCase()];
          if (value !== undefined) return value;
          ctx.addIssue({ code: 'custom', message: `must be true or false, got "${text}"` });
          return z.NEVER;
        })
        .default(fallback),
      String(fallback),
    ),

  /** One of `values`; unset: undefined (the user of the value applies `shown`). */
  oneOf: <const V extends readonly [string, ...string[]]>(
    description: string,
    values: V,
    shown?: string,
  ): EnvVariable<V[number] | undefined> =>
    variable(
      description,
      z
        .string()
        .refine((text) => (values as readonly string[]).includes(text), {
          error: (issue) => `must be one of ${values.join(', ')}, got "${String(issue.input)}"`,
        })
        .optional() as z.ZodType<V[number] | undefined>,
      shown,
    ),
};

/** Every problem of `env` against `spec`, one issue per variable (path: its name). */
export function environmentProblems(spec: EnvSpec, env: Env): Issue[] {
  const result = objectOf(spec).safeParse(pick(spec, env));
  return result.success ? [] : zodIssues(result.error);
}

/** The values of `spec`'s variables in `env`; a ValidationError lists every problem at once. */
export function readEnvironment<S extends EnvSpec>(spec: S, env: Env): EnvValues<S> {
  const result = objectOf(spec).safeParse(pick(spec, env));
  if (result.success) return result.data as EnvValues<S>;
  throw environmentError(zodIssues(result.error));
}

/** The error of an invalid environment, its message listing each problem on a line. */
export function environmentError(issues: Issue[]): ValidationError {
  const lines = issues.map((issue) => `  ${issue.path}: ${issue.message}`);
  return new ValidationError(
    `invalid environment, ${issues.length} problem(s):\n${lines.join('\n')}`,
    issues,
  );
}

const objectOf = (spec: EnvSpec) =>
  z.object(Object.fromEntries(Object.entries(spec).map(([name, { schema }]) => [name, schema])));

const pick = (spec: EnvSpec, env: Env) =>
  Object.fromEntries(Object.keys(spec).map((name) => [name, env[name]]));
