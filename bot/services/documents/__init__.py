"""The official documents from the records: the case file, numbers, letters, the registry
of issued documents and the documents decisions order."""
