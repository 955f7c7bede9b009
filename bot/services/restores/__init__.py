"""Steps 4-5 from the records: backup checks, restore runs, rollbacks and the team's
steps around them."""
