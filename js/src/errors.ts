/**
 * An error the SDK reports: `code` is the protocol's error code (`invalid_topic`,
 * `forbidden_topic`, `token_unavailable`, ...) or the SDK's own (`bad_config`, `no_websocket`).
 */
export class GlobeMeetError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'GlobeMeetError';
    this.code = code;
  }
}

/**
 * The client stopped for good without close() being called: a final close code (4401 when
 * even a fresh token is refused, 4403, 4400, 1008, ...) or a token provider that gives only
 * expired tokens (4001). Emitted once, as the last `error`, right before the state `closed`.
 * `code` is always `'closed'`.
 */
export class GlobeMeetCloseError extends GlobeMeetError {
  declare readonly code: 'closed';
  /** The close code that ended the client (also `finalCode`). */
  readonly closeCode: number;
  /** The reason that came with it (the server's, or the client's own explanation). */
  readonly reason: string;

  constructor(closeCode: number, reason: string, message: string) {
    super('closed', message);
    this.name = 'GlobeMeetCloseError';
    this.closeCode = closeCode;
    this.reason = reason;
  }
}

/** An HTTP request of the Node helpers refused: `status` and the server's error `code`. */
export class GlobeMeetHttpError extends GlobeMeetError {
  readonly status: number;

  constructor(status: number, code: string, message: string) {
    super(code, message);
    this.name = 'GlobeMeetHttpError';
    this.status = status;
  }
}
