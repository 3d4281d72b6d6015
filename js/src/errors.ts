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
