"""Operating an install: backup and restore of the whole install (database, chunks, uploaded
documents' bytes) into one checked folder."""
