"""Thin Telegram adapters: parse an update, call a service, render, send."""
