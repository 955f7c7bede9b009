"""Services: each applies one use case inside a unit of work and records it."""
