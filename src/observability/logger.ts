import pino, { type Logger } from "pino";

/**
 * The process logger: JSON lines on stdout (pino). Nothing we log carries a token or a
 * webhook secret (request lines name the route pattern, never the URL with its query, and
 * no headers); the redaction below is a second line of defence for objects logged whole.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: [
        "token",
        "secret",
        "*.token",
        "*.secret",
        "headers.authorization",
        'headers["x-linq-integration-token"]',
        "req.headers.authorization",
        'req.headers["x-linq-integration-token"]',
      ],
      censor: "[redacted]",
    },
  });
}
