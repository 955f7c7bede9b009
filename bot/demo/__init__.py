"""The demo wing: `pulih demo` (`play.py`, with its lab office `office_lab.py`), the
loopback lab servers (`lab/`: sshd, MariaDB, backup points, SIMPEG) and the local Bot API
stand-in (`standin.py`), shared by the demo, the tests and the benchmarks. Nothing of the
core imports it."""
