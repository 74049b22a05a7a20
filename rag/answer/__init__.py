"""The read path, question → standalone query → retrieved passages → checked `Answer`
(`pipeline.Assistant`). Nothing here writes to the database or speaks HTTP: conversations and
refusals are kept by `rag.chat.ChatService`, the surfaces live in `rag.web`.

`types` holds the data passed between the stages; `condense`, `retrieval` and the
`generators` (registry in `rag.runtime`) are the stages; `citations`, `grounding`, `support`
and `short_answer` check and mark up what a generator wrote; `untrusted` neutralises document
text before anyone sees it.
"""
