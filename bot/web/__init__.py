"""The web wing: the public verification page (`pulih web`), behind the office's reverse
proxy. It reads the database through the documents' public view and nothing else; nothing
in the core imports it."""
