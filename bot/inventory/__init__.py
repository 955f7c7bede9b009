"""The office's own description of its world, read from a TOML file."""
