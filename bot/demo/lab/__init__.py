"""Throwaway servers on loopback (OpenSSH, MariaDB) and backup points as a backup job
leaves them: what `pulih demo` plays steps 4-7 on, and what the tests and benchmarks run
against. Nothing here is used by the bot in production."""
