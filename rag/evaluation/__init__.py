"""`python app.py eval`: retrieval quality on BEIR data, answer quality on SQuAD-style data,
calibration of the abstention threshold, and replay of stored user feedback."""

SYSTEMS = ("bm25", "dense", "hybrid", "langchain")
