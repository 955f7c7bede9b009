"""The outbox: messages queued in the same unit of work as the change they report, sent by
the chat wing."""
