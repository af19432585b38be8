"""Password and email rules for new accounts and password changes (NIST SP 800-63B, section 5.1.1.2).

A password must be 8 to 256 characters (the upper bound keeps argon2 from being fed megabytes) and
must not be an obviously guessable value. There are no composition rules ("one digit, one symbol");
instead a password is refused when, compared in lower case, it

- is on the bundled list of commonly used passwords (`common_passwords.COMMON`);
- is one of the bundled base words (`common_passwords.BASE_WORDS`, e.g. "password", "dragon",
  "iloveyou") or the user's own email, its local part or name, with a few digits or symbols around
  it and common letter-for-symbol swaps undone ("P@ssw0rd2024!" is "password" + "2024!");
- is one character repeated, or a run of the alphabet, the digits or a keyboard row ("abcdefgh",
  "98765432", "qwertyui").

Every check is local: no request leaves the hub. Emails are checked with `email-validator` (syntax
only, no DNS lookups) and stored normalised (Unicode NFC, lower case).
"""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

from hub.services.accounts.common_passwords import BASE_WORDS, COMMON

MIN_PASSWORD = 8
MAX_PASSWORD = 256
MAX_EMAIL = 320

#: Digits and symbols people put before or after a word to satisfy a rule ("!", "123", "2024!").
_AFFIXES = re.compile(r"^[\d\W_]{0,6}(.*?)[\d\W_]{0,6}$", re.DOTALL)
#: Letter-for-symbol swaps ("p@ssw0rd"), undone before comparing with the base words.
_UNLEET = str.maketrans("@4831!0$57+", "aabeiiosstt")
_RUNS = (
    "abcdefghijklmnopqrstuvwxyz",
    "01234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "qazwsxedcrfvtgbyhnujmikolp",
)


def normalize_email(email: str) -> str:
    """The form emails are stored and looked up in: trimmed, Unicode NFC, lower case."""
    return unicodedata.normalize("NFC", email.strip()).lower()


def email_problem(email: str) -> tuple[str, str | None]:
    """(normalised email, why it is not acceptable or None)."""
    email = email.strip()
    if len(email) > MAX_EMAIL:
        return normalize_email(email), f"must be at most {MAX_EMAIL} characters"
    try:
        valid = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        return normalize_email(email), f"must be a valid email address: {exc}"
    return normalize_email(valid.normalized), None


def _is_run(text: str) -> bool:
    return any(text in run or text in run[::-1] for run in _RUNS)


def _core(password: str) -> set[str]:
    """The word a password is built on: affixes stripped, as typed and with symbol swaps undone."""
    lowered = password.lower()
    found: set[str] = set()
    for candidate in (lowered, lowered.translate(_UNLEET)):
        match = _AFFIXES.match(candidate)
        if match is not None:
            found.add(match.group(1))
    stripped = _AFFIXES.match(lowered)
    if stripped is not None:
        found.add(stripped.group(1).translate(_UNLEET))
    return {word for word in found if word}


def _personal_words(email: str, name: str) -> set[str]:
    email = normalize_email(email)
    local = email.split("@", 1)[0]
    lowered = name.strip().lower()
    words = {email, local, lowered, lowered.replace(" ", ""), re.sub(r"[\W_]+", "", local)}
    words.update(part for part in re.split(r"[\W_]+", f"{local} {lowered}") if len(part) >= 4)
    return {word for word in words if word}


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why `password` is not acceptable for the account (`email`, `name`), or None when it is."""
    if len(password) < MIN_PASSWORD:
        return f"must be at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"must be at most {MAX_PASSWORD} characters"
    lowered = password.lower()
    personal = _personal_words(email, name)
    if lowered in personal:
        return "must not be your email address or name"
    if lowered in COMMON or len(set(lowered)) == 1 or _is_run(lowered):
        return "is too common; choose a longer or less predictable password"
    cores = _core(password)
    if cores & personal:
        return "must not be based on your email address or name"
    if cores & BASE_WORDS or any(len(set(core)) == 1 for core in cores):
        return "is too common; choose a longer or less predictable password"
    return None
