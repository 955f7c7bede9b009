"""The Telegram side of the composition root: the PTB Application and what it needs."""
