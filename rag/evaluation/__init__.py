"""Measurement, `python app.py eval`: retrieval quality on BEIR data (systems, metrics), answer
quality on SQuAD-style data (answers), calibration of the abstention threshold (calibrate), and
replay of stored user feedback as regression cases (replay)."""

SYSTEMS = ("bm25", "dense", "hybrid", "langchain")
