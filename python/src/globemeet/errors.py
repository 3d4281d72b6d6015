"""The one exception type of the library."""
from __future__ import annotations


class GlobeMeetError(Exception):
    """An error the client reports or raises.

    `code` is the protocol's error code (`invalid_topic`, `forbidden_topic`, `bad_frame`,
    `token_unavailable`, `invalid_client`, ...), the library's own (`bad_config`,
    `invalid_event_id`, `handler_error`), or `closed` when the client stopped for good other
    than by close(): then `close_code` is the close code that ended it (4401, 4403, 4001, ...)
    and `reason` its reason. `status` is the HTTP status for errors of fetch_token/publish.
    """

    def __init__(self, code: str, message: str, *, close_code: int = 0, reason: str = "",
                 status: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.close_code = close_code
        self.reason = reason
        self.status = status

    def __repr__(self) -> str:
        extra = f", close_code={self.close_code}" if self.close_code else ""
        return f"GlobeMeetError({self.code!r}, {self.message!r}{extra})"
