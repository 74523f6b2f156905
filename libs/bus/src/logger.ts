/** The structured logger the bus writes to: pino's `(obj, msg)` shape, so a pino logger fits as is. */
export interface BusLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const ignore = (): void => {};

export const noopLogger: BusLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };

/** A loggable description of any thrown value. */
export function errorFields(err: unknown): { err: { name: string; message: string; code?: unknown } } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { err: { name: err.name, message: err.message, ...(code === undefined ? {} : { code }) } };
  }
  return { err: { name: 'NonError', message: String(err) } };
}
