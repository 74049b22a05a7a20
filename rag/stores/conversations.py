"""Conversations kept in the shared database, so a follow-up may reach any process or node:
each belongs to one caller, keeps its last `max_messages` messages, and a caller keeps at most
`per_owner` conversations (their least recently used go first). A conversation is titled by
its first question until its owner renames it; the chat lists, reopens, renames and deletes
them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from index.database import Base, Database, utcnow
from rag.answer.types import MAX_ANSWER_CHARS, Citation, Message
from rag.errors import InputError

__all__ = ["ConversationRow", "ConversationSummary", "Conversations", "MessageRow", "Turn"]


class ConversationRow(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(300), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    title: Mapped[str | None] = mapped_column(String(200), nullable=True)


class MessageRow(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    sources: Mapped[str | None] = mapped_column(Text, nullable=True)  # an answer's citations


MAX_TITLE_CHARS = 200
_CITATIONS = TypeAdapter(list[Citation])


class Turn(BaseModel):
    """A kept message and, for an answer, the citations it was shown with."""

    message: Message
    citations: list[Citation] = []


def _citations(stored: str | None) -> list[Citation]:
    if not stored:
        return []  # a question, or an answer kept before sources were
    try:
        return _CITATIONS.validate_json(stored)
    except ValidationError:  # written by another version: the text still stands
        return []


class ConversationSummary(BaseModel):
    id: str
    title: str
    updated_at: str


def _title(text: str) -> str:
    title = " ".join(text.split())
    return title if len(title) <= 80 else title[:79].rsplit(" ", 1)[0] + "…"


class Conversations:
    def __init__(self, database: Database, max_messages: int = 20, per_owner: int = 100) -> None:
        self.database = database
        self.max_messages = max_messages
        self.per_owner = per_owner

    def start(self, owner: str) -> str:
        conversation_id = uuid.uuid4().hex
        with self.database.write() as session:
            session.add(ConversationRow(id=conversation_id, owner=owner))
            session.flush()
            kept = (
                select(ConversationRow.id)
                .where(ConversationRow.owner == owner)
                .order_by(ConversationRow.updated_at.desc(), ConversationRow.id.desc())
                .limit(self.per_owner)
            )
            stale = select(ConversationRow.id).where(
                ConversationRow.owner == owner, ConversationRow.id.not_in(kept)
            )
            old = list(session.scalars(stale))
            if old:
                session.execute(delete(MessageRow).where(MessageRow.conversation_id.in_(old)))
                session.execute(delete(ConversationRow).where(ConversationRow.id.in_(old)))
        return conversation_id

    def history(self, conversation_id: str, owner: str) -> list[Message]:
        """The kept messages, oldest first; only for the conversation's owner."""
        return [turn.message for turn in self.turns(conversation_id, owner)]

    def turns(self, conversation_id: str, owner: str) -> list[Turn]:
        """The kept messages with their answers' citations, oldest first; owner only."""
        with self.database.read() as session:
            self._owned(session, conversation_id, owner)
            rows = session.scalars(
                select(MessageRow)
                .where(MessageRow.conversation_id == conversation_id)
                .order_by(MessageRow.id)
            ).all()
            return [
                Turn(
                    message=Message(role=row.role, content=row.content),
                    citations=_citations(row.sources),
                )
                for row in rows
            ]

    def record(
        self,
        conversation_id: str,
        question: str,
        answer: str,
        citations: Sequence[Citation] = (),
    ) -> bool:
        """Keep one exchange; False if the conversation is gone (deleted, or past the
        owner's limit)."""
        with self.database.write() as session:
            found = session.get(ConversationRow, conversation_id)
            if found is None:
                return False
            found.updated_at = utcnow()
            found.title = found.title or _title(question) or "Untitled"
            session.add_all(
                [
                    MessageRow(conversation_id=conversation_id, role="user", content=question),
                    MessageRow(
                        conversation_id=conversation_id,
                        role="assistant",
                        content=answer[:MAX_ANSWER_CHARS],
                        sources=_CITATIONS.dump_json(list(citations)).decode()
                        if citations
                        else None,
                    ),
                ]
            )
            session.flush()
            kept = (
                select(MessageRow.id)
                .where(MessageRow.conversation_id == conversation_id)
                .order_by(MessageRow.id.desc())
                .limit(self.max_messages)
            )
            session.execute(
                delete(MessageRow).where(
                    MessageRow.conversation_id == conversation_id, MessageRow.id.not_in(kept)
                )
            )
        return True

    def _owned(self, session: Any, conversation_id: str, owner: str) -> ConversationRow:
        found = session.get(ConversationRow, conversation_id)
        if found is None or found.owner != owner:
            raise InputError(f"unknown or expired conversation_id '{conversation_id}'")
        return cast(ConversationRow, found)

    def list(self, owner: str, limit: int = 100) -> list[ConversationSummary]:
        """The owner's conversations that have messages, most recently used first."""
        with self.database.read() as session:
            rows = session.scalars(
                select(ConversationRow)
                .where(ConversationRow.owner == owner, ConversationRow.title.is_not(None))
                .order_by(ConversationRow.updated_at.desc(), ConversationRow.id.desc())
                .limit(limit)
            ).all()
            return [
                ConversationSummary(
                    id=row.id,
                    title=row.title or "Untitled",
                    updated_at=row.updated_at.isoformat(timespec="minutes"),
                )
                for row in rows
            ]

    def rename(self, conversation_id: str, owner: str, title: str) -> None:
        title = " ".join(title.split())[:MAX_TITLE_CHARS]
        if not title:
            raise InputError("a conversation needs a title")
        with self.database.write() as session:
            self._owned(session, conversation_id, owner).title = title

    def delete(self, conversation_id: str, owner: str) -> None:
        with self.database.write() as session:
            self._owned(session, conversation_id, owner)
            session.execute(delete(MessageRow).where(MessageRow.conversation_id == conversation_id))
            session.execute(delete(ConversationRow).where(ConversationRow.id == conversation_id))
