from chat.loopback_server import loopback, server  # noqa: F401  (fixtures)
