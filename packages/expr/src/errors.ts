// The one error the expression language throws: a message and the 0-based offset it points at.
// The server maps it to `400 invalid_filter` with that position (contract §6).

export class ExprError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'ExprError';
  }
}
