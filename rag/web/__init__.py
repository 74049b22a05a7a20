"""Every surface that speaks HTTP, each a thin client of `ChatService` (asking inside a
conversation, `rag/chat.py`), the stores and the write path (`Ingestor`): the app factory
(`app.py`), the ask, documents and jobs routers, the OpenAI-compatible router, auth, uploads
(one path for the UI and the API), the widget and its static files, the Gradio chat UI, the
sign-in page (`login.py`), the request guards that run before any route (`protect.py`), and the
one mapping of errors to HTTP responses (`errors.py`).
"""
