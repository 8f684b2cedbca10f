import winston from 'winston';

/** Structured JSON logs on stdout, one object per line, for `kubectl logs` and log pipelines. */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info'): winston.Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}

export type Logger = winston.Logger;
