"""The SSH restore engine: backup catalog and checks, recipes, verification."""
