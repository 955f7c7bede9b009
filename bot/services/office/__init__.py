"""The office itself: its data directory, SSH key and inventory, kept in the database."""
