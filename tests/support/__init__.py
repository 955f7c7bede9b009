"""Helpers shared by the tests: servers started on loopback, and a small office."""
