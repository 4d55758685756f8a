// The per-request logger, made only when the request logs something. Fastify gives every request a
// child logger that stamps its lines with `requestId`; with pino's redaction, making one costs
// several microseconds — a real share of a fast read — and most requests log nothing at the
// configured level. This stand-in decides per line, and makes the pino child on the first line it
// actually writes.

import type { FastifyBaseLogger } from 'fastify';
import { pino, type Bindings, type ChildLoggerOptions, type Level, type Logger } from 'pino';

const LEVEL_VALUES = pino.levels.values;

class LazyRequestLogger {
  #real: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  get level(): string {
    return this.#real?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.#logger().level = level;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#logger().child(bindings, options);
  }

  // Prototype methods, not per-instance closures: a request should allocate one small object.
  fatal(...args: unknown[]): void {
    this.#write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.#write('error', args);
  }
  warn(...args: unknown[]): void {
    this.#write('warn', args);
  }
  info(...args: unknown[]): void {
    this.#write('info', args);
  }
  debug(...args: unknown[]): void {
    this.#write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.#write('trace', args);
  }
  silent(): void {}

  #logger(): Logger {
    return (this.#real ??= this.parent.child(this.bindings, this.options));
  }

  #write(level: Level, args: unknown[]): void {
    // 'silent' and unknown levels have no value below which anything is written.
    const threshold = LEVEL_VALUES[this.level] ?? Infinity;
    if (LEVEL_VALUES[level]! < threshold) return;
    (this.#logger()[level] as (...a: unknown[]) => void)(...args);
  }
}

/** Fastify's `childLoggerFactory`: a request logger that costs nothing until it writes a line. */
export function lazyRequestLogger(this: unknown, parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyRequestLogger(parent as Logger, bindings, options) as unknown as FastifyBaseLogger;
}
