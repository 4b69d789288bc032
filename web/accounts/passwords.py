"""Password hashes (argon2id via argon2-cffi) and the digest under which API tokens are stored."""
from __future__ import annotations

import hashlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..core.models import User

_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the timing of a failed login
# the same whether or not the account exists.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024  # argon2 hashes anything, but a megabyte "password" is an attack
# The most common passwords in public breach lists, and the obvious local ones: never accepted.
COMMON_PASSWORDS = frozenset("""
123456 123456789 12345678 1234567890 password password1 password123 qwerty qwerty123 qwertyuiop
1q2w3e4r 1qaz2wsx abc12345 abcd1234 a1234567 aa123456 iloveyou admin123 admin1234 administrator
welcome1 letmein1 11111111 00000000 88888888 66666666 12341234 123123123 987654321 passw0rd
p@ssw0rd zxcvbnm123 woaini1314 5201314520 tuiyou123 tuiyou2025 changeme changeme1 sunshine1
""".split())


def password_problem(password: str, *, username: str = "") -> str | None:
    """Why ``password`` is not acceptable (None when it is): length, a common password, the user name."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"password must have at most {MAX_PASSWORD_LENGTH} characters"
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        return "password is one of the most common passwords; choose another"
    if len(set(password)) < 4:
        return "password must use at least 4 different characters"
    name = username.strip().lower()
    if name and len(name) >= 3 and name in lowered:
        return "password must not contain the user name"
    return None


def hash_password(password: str, *, username: str = "") -> str:
    """An argon2id hash of ``password``; ValueError when the password policy refuses it."""
    problem = password_problem(password, username=username)
    if problem:
        raise ValueError(problem)
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    """Whether ``password`` is the user's; constant work when the user is missing."""
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    """The SHA-256 under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()
