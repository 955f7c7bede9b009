"""Who is who: actors by Telegram id or NIP, the officials holding a role on a day, and
linking a Telegram account to a person."""
