"""The extractive reader: an ONNX span model with a no-answer score (`model.py`), the refusal
decision of every answer path built on it (`evidence.py`), and its training (`training.py`)."""
