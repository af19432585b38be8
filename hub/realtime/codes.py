"""WebSocket close codes (documented in docs/protocol.md)."""

NORMAL = 1000
MESSAGE_TOO_BIG = 1009
SERVICE_RESTART = 1012  #: the server is shutting down; reconnect (to another instance) and resume
UNAUTHENTICATED = 4001  #: missing, invalid or expired token
PING_TIMEOUT = 4002  #: no answer to the server's ping within 20 s
FORBIDDEN = 4003  #: not a member, no such project, or removed from it
SLOW_CONSUMER = 4008  #: fell behind (send queue full); reconnect with last_event_id to resume
TOO_MANY_SOCKETS = 4029  #: too many sockets for this user on this instance
RATE_LIMITED = 4029  #: kept sending faster than the inbound limit after the rate_limited error
