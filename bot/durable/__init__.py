"""Many restores at once on DBOS Transact (issue 19): the queue, its limits and partitions,
the workers. Channel-agnostic: nothing here knows Telegram."""
