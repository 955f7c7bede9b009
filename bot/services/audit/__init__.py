"""The activity record: the hash chain, its key, and the daily anchor."""
