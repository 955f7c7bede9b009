"""A request's way through the SOP: filing, decisions, deadlines, notices and what the
chat shows of it."""
