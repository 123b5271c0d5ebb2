"""Teacher accounts: create, check a password, and a database-backed limit on failed log-ins (and class codes).

Passwords are hashed with Werkzeug's scrypt (salted, memory-hard). Failed attempts are rows in login_failures,
so the limit holds across threads, processes and restarts.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from .attempts import Session
from .models import LoginFailure, Teacher

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # hashing a megabyte-long "password" is a cheap way to burn our CPU
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{1,60}$")
HASH_METHOD = "scrypt"


@dataclass(frozen=True)
class Limit:
    """At most `failures` failed tries per key and address within `window`."""

    failures: int
    window: timedelta


LOGIN_LIMIT = Limit(5, timedelta(minutes=15))  # per e-mail and address
ADDRESS_LIMIT = Limit(30, timedelta(minutes=15))  # per address, whatever e-mails it tries
JOIN_LIMIT = Limit(20, timedelta(minutes=15))  # wrong class codes per address


class AccountError(ValueError):
    """An account that cannot be created as asked; the message says why."""


class InvalidLogin(ValueError):
    """Wrong e-mail or password (never says which)."""

    def __init__(self) -> None:
        super().__init__("That e-mail and password do not match an account.")


class TooManyAttempts(RuntimeError):
    """Too many failed tries from this address: wait before trying again."""

    def __init__(self, minutes: int) -> None:
        self.retry_after = minutes * 60
        super().__init__(f"Too many failed attempts. Wait {minutes} minutes and try again.")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"The password must be at least {MIN_PASSWORD} characters long.")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"The password may be at most {MAX_PASSWORD} characters long.")


def find_teacher(session: Session, email: str) -> Teacher | None:
    return session.scalar(select(Teacher).where(Teacher.email == normalise_email(email)))


def create_teacher(session: Session, email: str, password: str) -> Teacher:
    address = normalise_email(email)
    if not EMAIL.match(address):
        raise AccountError(f"'{email[:100]}' is not an e-mail address.")
    check_password_rules(password)
    if find_teacher(session, address) is not None:
        raise AccountError(f"There is already a teacher account for {address}.")
    teacher = Teacher(email=address, password_hash=generate_password_hash(password, method=HASH_METHOD))
    session.add(teacher)
    session.commit()
    return teacher


def set_password(session: Session, teacher: Teacher, password: str) -> None:
    check_password_rules(password)
    teacher.password_hash = generate_password_hash(password, method=HASH_METHOD)
    session.commit()


def session_stamp(teacher: Teacher) -> str:
    """Kept in the signed session: a new password changes it, which logs out every other session."""
    return hashlib.sha256(teacher.password_hash.encode()).hexdigest()[:16]


# A hash to check against when the e-mail is unknown, so the reply takes as long as for a known one.
_DUMMY_HASH = generate_password_hash("no such account", method=HASH_METHOD)


def _since(limit: Limit) -> datetime:
    return datetime.now(UTC) - limit.window


def _failures(session: Session, ip: str, limit: Limit, key: str | None = None) -> int:
    q = select(func.count(LoginFailure.id)).where(LoginFailure.ip == ip, LoginFailure.at >= _since(limit))
    if key is not None:
        q = q.where(LoginFailure.key == key)
    return int(session.scalar(q) or 0)


def check_limit(session: Session, ip: str, key: str, limit: Limit, *, address_limit: Limit | None = None) -> None:
    """TooManyAttempts if this key (or, with address_limit, this address) has used up its failed tries."""
    minutes = int(limit.window.total_seconds() // 60)
    if _failures(session, ip, limit, key) >= limit.failures:
        raise TooManyAttempts(minutes)
    if address_limit is not None and _failures(session, ip, address_limit) >= address_limit.failures:
        raise TooManyAttempts(int(address_limit.window.total_seconds() // 60))


def record_failure(session: Session, ip: str, key: str) -> None:
    session.add(LoginFailure(key=key[:300], ip=ip[:64]))
    # Old rows are no longer counted: drop them now and then so the table stays small.
    session.execute(delete(LoginFailure).where(LoginFailure.at < datetime.now(UTC) - timedelta(days=1)))
    session.commit()


def authenticate(session: Session, email: str, password: str, ip: str) -> Teacher:
    """The teacher with this e-mail and password; InvalidLogin or TooManyAttempts otherwise."""
    address = normalise_email(email)[:254]
    key = f"login:{address}"
    check_limit(session, ip, key, LOGIN_LIMIT, address_limit=ADDRESS_LIMIT)
    teacher = find_teacher(session, address) if address else None
    candidate = password[:MAX_PASSWORD]
    ok = check_password_hash(teacher.password_hash if teacher else _DUMMY_HASH, candidate)
    if teacher is None or not ok:
        record_failure(session, ip, key)
        raise InvalidLogin()
    session.execute(delete(LoginFailure).where(LoginFailure.key == key, LoginFailure.ip == ip))
    session.commit()
    return teacher
