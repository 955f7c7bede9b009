"""The chat itself, kept durable: what each person is in the middle of, and every update
received until it has been handled."""
