/**
 * Bounds on what a plan or a message may hold. They keep one bad or hostile input from
 * exhausting memory, the bus's payload limit or the decider's time.
 */
export const LIMITS = {
  /** Bytes of a plan document (YAML or JSON) as text. */
  planBytes: 4 * 1024 * 1024,
  /** YAML aliases resolved in one document (guards against alias-expansion bombs). */
  yamlAliases: 100,
  /** Nesting depth of any JSON value we accept (plan, input_context, output). */
  jsonDepth: 64,
  /**
   * Nesting depth of a whole bus message: room for a resolved input_context (an input at
   * jsonDepth holding outputs at jsonDepth) in its envelope, far below what overflows the stack
   * of a recursive validator.
   */
  messageDepth: 256,
  phases: 1_000,
  tasks: 20_000,
  retries: 20,
  timeoutMs: 24 * 60 * 60 * 1000,
  backoffMs: 60 * 60 * 1000,
  /** Bytes of one task's input_context, as JSON, before and after reference resolution. */
  inputBytes: 256 * 1024,
  /**
   * Bytes of one task's output, as JSON, accepted from a plugin. An output larger than one NATS
   * message travels through the object store (README, "Large values").
   */
  outputBytes: 32 * 1024 * 1024,
  idLength: 128,
  /**
   * Default bound on any one value on the bus (a message, an event record, an execution_results
   * value), whole or through the object store; `ORCHESTRA_MAX_VALUE_BYTES` changes it.
   */
  valueBytes: 64 * 1024 * 1024,
  /** Issues listed in one rejection; the count of the rest is given. */
  issuesPerRejection: 100,
} as const;

export type Limits = typeof LIMITS;
