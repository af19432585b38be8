"""What Slack refuses in a message or a modal, as the fake Slack checks it (`FakeSlack` answers with
these errors, `ok: false`, and keeps nothing of the refused message).

From the Block Kit reference and the methods' documented errors:

- a message's `text` over 40,000 characters: `msg_too_long` (Slack documents truncating there; the
  fake refuses, so that an overshoot fails a test instead of silently losing the end);
- more than 50 blocks, a section's text over 3,000 characters (10 fields of 2,000), a header's over
  150, a button's or an option's text over 75, more than 25 elements in an actions block, 10 in a
  context block, 100 options in a select, a `block_id`/`action_id` over 255: `invalid_blocks`, with
  Slack's `errors` and `response_metadata.messages` (`must be less than 3001 characters
  [json-pointer:/blocks/0/text/text]`);
- all the text of a message's blocks together over 11,000 characters: `msg_blocks_too_long`
  (undocumented; reported from about 11,300, so the fake is a little stricter);
- a modal with more than 100 blocks or a title, submit or close text over 24 characters:
  `invalid_arguments`.

`raw_texts` finds user markup that would reach Slack live: a mrkdwn `text` with `<`, `>` or a bare `&`
outside our own links and mentions (what a ticket titled `<!channel>` must never do).
"""

from __future__ import annotations

import re
from typing import Any

MAX_TEXT = 40_000
MAX_BLOCKS = 50
MAX_MODAL_BLOCKS = 100
MAX_BLOCKS_TEXT = 11_000
#: (block or element type, field) → the longest text Slack takes there.
TEXT_LIMITS = {
    ("section", "text"): 3_000,
    ("section", "fields"): 2_000,
    ("header", "text"): 150,
    ("context", "elements"): 3_000,
    ("button", "text"): 75,
    ("option", "text"): 75,
    ("option", "description"): 75,
    ("placeholder", "text"): 150,
    ("input", "label"): 2_000,
    ("input", "hint"): 2_000,
}
COUNT_LIMITS = {("actions", "elements"): 25, ("context", "elements"): 10, ("section", "fields"): 10}
MAX_OPTIONS = 100
MAX_ID = 255


class Refusal(Exception):
    def __init__(self, error: str, problems: list[str]) -> None:
        super().__init__(error)
        self.error = error
        self.problems = problems

    def body(self) -> dict[str, Any]:
        return {
            "ok": False,
            "error": self.error,
            "errors": self.problems,
            "response_metadata": {"messages": [f"[ERROR] {p}" for p in self.problems]},
        }


def _text_of(value: Any) -> str:
    """The text of a composition object (`{"type": "mrkdwn", "text": …}`) or of a bare string."""
    if isinstance(value, dict):
        return str(value.get("text", ""))
    return str(value) if value is not None else ""


def _too_long(text: str, limit: int, pointer: str) -> list[str]:
    if len(text) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{pointer}]"]
    return []


def _ids(node: dict[str, Any], pointer: str) -> list[str]:
    problems: list[str] = []
    for key in ("block_id", "action_id"):
        if key in node:
            problems += _too_long(str(node[key]), MAX_ID, f"{pointer}/{key}")
    return problems


def _options(element: dict[str, Any], pointer: str) -> list[str]:
    options = element.get("options") or []
    problems = [f"no more than {MAX_OPTIONS} items allowed [json-pointer:{pointer}/options]"] * (
        len(options) > MAX_OPTIONS
    )
    for i, option in enumerate(options):
        for field in ("text", "description"):
            if field in option:
                limit = TEXT_LIMITS[("option", field)]
                problems += _too_long(_text_of(option[field]), limit, f"{pointer}/options/{i}/{field}/text")
    return problems


def _element(element: dict[str, Any], pointer: str) -> list[str]:
    problems = _ids(element, pointer)
    kind = element.get("type", "")
    if kind == "button":
        problems += _too_long(_text_of(element.get("text")), 75, f"{pointer}/text/text")
        problems += _too_long(str(element.get("value", "")), 2_000, f"{pointer}/value")
        problems += _too_long(str(element.get("url", "")), 3_000, f"{pointer}/url")
    if "placeholder" in element:
        problems += _too_long(_text_of(element["placeholder"]), 150, f"{pointer}/placeholder/text")
    if "options" in element:
        problems += _options(element, pointer)
    return problems


def _block(block: dict[str, Any], pointer: str) -> list[str]:
    kind = str(block.get("type", ""))
    problems = _ids(block, pointer)
    for field in ("text", "label", "hint"):
        if field in block and (kind, field) in TEXT_LIMITS:
            limit = TEXT_LIMITS[(kind, field)]
            problems += _too_long(_text_of(block[field]), limit, f"{pointer}/{field}/text")
    for field in ("fields", "elements"):
        items = block.get(field) or []
        most = COUNT_LIMITS.get((kind, field), len(items))
        if len(items) > most:
            problems.append(f"no more than {most} items allowed [json-pointer:{pointer}/{field}]")
        for i, item in enumerate(items):
            if (kind, field) in TEXT_LIMITS:
                limit = TEXT_LIMITS[(kind, field)]
                problems += _too_long(_text_of(item), limit, f"{pointer}/{field}/{i}/text")
            if kind == "actions" and isinstance(item, dict):
                problems += _element(item, f"{pointer}/{field}/{i}")
    for field in ("accessory", "element"):
        if isinstance(block.get(field), dict):
            problems += _element(block[field], f"{pointer}/{field}")
    return problems


def all_text(value: Any) -> int:
    """The length of every `text` string in a block tree (what `msg_blocks_too_long` counts)."""
    if isinstance(value, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else all_text(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(all_text(v) for v in value)
    return 0


def _blocks(blocks: Any, most: int) -> list[str]:
    if blocks in (None, ""):
        return []
    if not isinstance(blocks, list):
        return ["must be an array [json-pointer:/blocks]"]
    problems = [f"no more than {most} items allowed [json-pointer:/blocks]"] * (len(blocks) > most)
    for i, block in enumerate(blocks):
        problems += _block(block, f"/blocks/{i}") if isinstance(block, dict) else [f"/blocks/{i}"]
    return problems


def check_message(params: dict[str, Any]) -> None:
    """Raise `Refusal` for a message (`chat.postMessage`, `chat.update`, `chat.postEphemeral`, a
    `response_url` answer) Slack would refuse."""
    text = params.get("text")
    if isinstance(text, str) and len(text) > MAX_TEXT:
        raise Refusal("msg_too_long", [f"text must be less than {MAX_TEXT + 1} characters"])
    problems = _blocks(params.get("blocks"), MAX_BLOCKS)
    if problems:
        raise Refusal("invalid_blocks", problems)
    if all_text(params.get("blocks") or []) > MAX_BLOCKS_TEXT:
        raise Refusal("msg_blocks_too_long", [])


def check_unfurls(params: dict[str, Any]) -> None:
    """`chat.unfurl`: each unfurl's blocks are a message's."""
    unfurls = params.get("unfurls") or {}
    for unfurl in unfurls.values() if isinstance(unfurls, dict) else []:
        check_message(unfurl if isinstance(unfurl, dict) else {})


def check_view(params: dict[str, Any]) -> None:
    """`views.open` / `views.update` / `views.push`: a modal Slack would refuse."""
    view = params.get("view") or {}
    problems = _blocks(view.get("blocks"), MAX_MODAL_BLOCKS)
    for field in ("title", "submit", "close"):
        if field in view:
            problems += _too_long(_text_of(view[field]), 24, f"/view/{field}/text")
    problems += _too_long(str(view.get("private_metadata", "")), 3_000, "/view/private_metadata")
    if problems:
        raise Refusal("invalid_arguments", problems)


def check_home(params: dict[str, Any]) -> None:
    """`views.publish`: a Home tab Slack would refuse (at most 100 blocks, each within its limits)."""
    view = params.get("view") or {}
    problems = _blocks(view.get("blocks"), MAX_MODAL_BLOCKS)
    if view.get("type") != "home":
        problems.append("must be home [json-pointer:/view/type]")
    problems += _too_long(str(view.get("private_metadata", "")), 3_000, "/view/private_metadata")
    if problems:
        raise Refusal("invalid_arguments", problems)


CHECKS = {
    "views.publish": check_home,
    "chat.postMessage": check_message,
    "chat.update": check_message,
    "chat.postEphemeral": check_message,
    "chat.unfurl": check_unfurls,
    "views.open": check_view,
    "views.update": check_view,
    "views.push": check_view,
}


# --- escaping, as the tests check it ---------------------------------------------------------------
#: Our own markup: links `<url|label>`, user mentions `<@U…>`; the label is checked like any text.
OURS = re.compile(r"<(?:https?://[^<>|\s]+(?:\|(?P<label>[^<>]*))?|@U[A-Z0-9]+)>")
ENTITY = re.compile(r"&(?:amp|lt|gt);")


def unescaped(text: str) -> bool:
    """Whether mrkdwn `text` holds `<`, `>` or a bare `&` outside our own link and mention markup."""
    rest = ENTITY.sub("", OURS.sub(lambda m: m.group("label") or "", text))
    return any(char in rest for char in "<>&")


def raw_texts(payload: Any) -> list[str]:
    """Every mrkdwn `text` in a payload (recursively; plain_text objects are not parsed by Slack) that
    lets user markup through."""
    found: list[str] = []
    if isinstance(payload, dict):
        plain = payload.get("type") == "plain_text"
        for key, value in payload.items():
            if key == "text" and isinstance(value, str):
                if not plain and unescaped(value):
                    found.append(value)
            else:
                found += raw_texts(value)
    elif isinstance(payload, list):
        for item in payload:
            found += raw_texts(item)
    return found
