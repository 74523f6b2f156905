import type { LoggerService } from '@nestjs/common';
import { envVariable as variable } from '@orchestra/contracts';

/** How a process logs (README, "Configuration"); each process applies its own defaults. */
export const LOG_ENVIRONMENT = {
  LOG_LEVEL: variable.oneOf(
    'pino level: trace, debug (a line per state transition), info, warn, error, fatal, silent (orchestra console: warn by default)',
    ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    'info',
  ),
  LOG_FORMAT: variable.oneOf(
    'json (one object per line) or pretty (lines for a person); default: pretty at a terminal, else json',
    ['json', 'pretty'],
  ),
} as const;

/** pino's `(obj, msg)` shape: the logger every service already receives (BusLogger is the same). */
export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Nest's own messages (route mapping, bootstrap, unhandled errors) as pino JSON lines. Its
 * chatty `log` level goes to debug. (nestjs-pino would do this, but it requires Node 22.)
 */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.logger.debug(fields(params), text(message));
  }
  error(message: unknown, ...params: unknown[]): void {
    this.logger.error(fields(params), text(message));
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.logger.warn(fields(params), text(message));
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.logger.debug(fields(params), text(message));
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.logger.debug(fields(params), text(message));
  }
}

function text(message: unknown): string {
  if (message instanceof Error) return message.message;
  return typeof message === 'string' ? message : JSON.stringify(message);
}

/** Nest passes the context (a class name) last, and a stack before it for errors. */
function fields(params: unknown[]): object {
  const strings = params.filter((p): p is string => typeof p === 'string');
  const context = strings.at(-1);
  const stack = strings.length > 1 ? strings[0] : undefined;
  return { ...(context ? { nest: context } : {}), ...(stack ? { stack } : {}) };
}
