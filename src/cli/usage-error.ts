/** A mistake the user can fix (a flag, a port, a command): printed as one line, never with a stack trace. */
export class UsageError extends Error {}
