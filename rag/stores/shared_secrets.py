"""Secrets every node must share (the key that signs chat UI sessions), and one-time claims
("index the demo samples") that exactly one process of an install wins."""

from __future__ import annotations

import contextlib
import secrets

from sqlalchemy import String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from index.database import Base, Database

__all__ = ["SecretRow", "claim_once", "shared_secret"]


class SecretRow(Base):
    __tablename__ = "secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


def shared_secret(database: Database, name: str) -> str:
    """The secret called `name`, made once by whichever process asks first."""
    with database.read() as session:
        found = session.get(SecretRow, name)
        if found is not None:
            return found.value
    with contextlib.suppress(IntegrityError), database.write() as session:
        session.add(SecretRow(name=name, value=secrets.token_urlsafe(48)))
    with database.read() as session:
        return session.get_one(SecretRow, name).value


def claim_once(database: Database, name: str) -> bool:
    """True for exactly one caller ever, of all processes sharing the database."""
    try:
        with database.write() as session:
            session.add(SecretRow(name=f"claim:{name}", value=secrets.token_hex(8)))
    except IntegrityError:
        return False
    return True
