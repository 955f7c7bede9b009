"""Steps 4-5 from the records: backup checks, restore runs, rollbacks and the team's
steps around them."""

# A phase record's status: the run begins again from a clean target, taken back from a
# worker that stopped (runs.take_back); only what follows it is the restore.
AGAIN = "again"
