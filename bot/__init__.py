"""Pulih core: settings, records, the SOP as data, services and the CLI."""
