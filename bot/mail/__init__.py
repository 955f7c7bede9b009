"""The e-mail wing: the outbox's sender for e-mail over the office's SMTP server (STARTTLS,
a login from a file), the second channel beside Telegram. Nothing in the core imports it;
the bot runs it as a job."""
