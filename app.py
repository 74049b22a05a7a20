"""Docent: `python app.py` serves the chat; `python app.py ingest|ask|serve --help` for more."""

import sys

from rag.cli import main

if __name__ == "__main__":
    sys.exit(main())
