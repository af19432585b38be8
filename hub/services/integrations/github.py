"""GitHub repository webhooks: `ping`, `push` and `pull_request`.

* `push`: each ticket whose key a commit message (or the branch name) mentions gets one comment listing
  those commits with links. On the default branch (`refs/heads/<repository.default_branch>`), "fixes /
  closes / resolves KEY-N" in a commit message moves that ticket to `options.close_status`.
* `pull_request` `opened`, `reopened` and `closed`: each ticket whose key the title, body or head
  branch mentions gets a comment (opened, merged, or closed without merging) with the link. When it was
  merged, "fixes KEY-N" in the title or body moves the ticket to `options.close_status`.
* `ping` (sent when the webhook is saved) is answered 200 and changes nothing; any other event is
  logged as `ignored`.
"""

from __future__ import annotations

from typing import Any

from hub.services.integrations.acting import Acting, Outcome, clip, first_line

PR_ACTIONS = ("opened", "reopened", "closed")
MAX_COMMITS_LISTED = 20


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


async def handle(acting: Acting, event: str, payload: dict[str, Any]) -> Outcome:
    outcome = Outcome()
    if event == "ping":
        outcome.note("ping: " + clip(_str(payload.get("zen")) or "pong", 200))
    elif event == "push":
        await _push(acting, payload, outcome)
    elif event == "pull_request":
        await _pull_request(acting, payload, outcome)
    else:
        outcome.note(f"event {clip(event, 64) or '(none)'} is not used")
    return outcome


def _commit_line(commit: dict[str, Any]) -> str:
    sha = _str(commit.get("id"))[:7]
    author = _dict(commit.get("author"))
    who = _str(author.get("username")) or _str(author.get("name"))
    line = f"- {sha} {first_line(_str(commit.get('message')))}"
    if who:
        line += f" ({who})"
    url = _str(commit.get("url"))
    return f"{line} {url}" if url else line


def _commits_by_key(
    acting: Acting, commits: list[dict[str, Any]], branch_keys: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """The commits that mention each ticket (all of them for a key the branch name mentions)."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for commit in commits:
        for key in [*branch_keys, *acting.keys_in(_str(commit.get("message")))]:
            listed = by_key.setdefault(key, [])
            if commit not in listed:
                listed.append(commit)
    return by_key


async def _push(acting: Acting, payload: dict[str, Any], outcome: Outcome) -> None:
    if payload.get("deleted"):
        outcome.note("a deleted branch: nothing to do")
        return
    ref = _str(payload.get("ref"))
    branch = ref.removeprefix("refs/heads/")
    repo = _dict(payload.get("repository"))
    repo_name = _str(repo.get("full_name")) or _str(repo.get("name"))
    default = _str(repo.get("default_branch")) or _str(repo.get("master_branch"))
    given = payload.get("commits")
    commits = [c for c in given if isinstance(c, dict)] if isinstance(given, list) else []
    branch_keys = acting.keys_in(branch) if ref.startswith("refs/heads/") else []
    by_key = _commits_by_key(acting, commits, branch_keys)
    pusher = _str(_dict(payload.get("pusher")).get("name")) or _str(_dict(payload.get("sender")).get("login"))

    async def comment(key: str) -> None:
        mine = by_key[key]
        head = f"{pusher or 'Someone'} pushed {len(mine)} commit{'s' if len(mine) != 1 else ''} "
        head += f"mentioning {key} to {repo_name}@{branch}"
        lines = [_commit_line(c) for c in mine[:MAX_COMMITS_LISTED]]
        if len(mine) > MAX_COMMITS_LISTED:
            lines.append(f"… and {len(mine) - MAX_COMMITS_LISTED} more")
        if compare := _str(payload.get("compare")):
            lines.append(compare)
        await acting.comment(key, head + ":\n" + "\n".join(lines))
        outcome.note(f"commented on {key}", changed=True)

    await acting.each(list(by_key), outcome, comment)
    if default and ref == f"refs/heads/{default}":
        closing = acting.closed_keys_in(*(_str(c.get("message")) for c in commits))
        status = str(acting.options.get("close_status", "done"))
        await acting.each(closing, outcome, lambda key: acting.move(key, status, outcome))
    if not by_key:
        outcome.note(f"no commit mentions a {acting.project_key} ticket")


async def _pull_request(acting: Acting, payload: dict[str, Any], outcome: Outcome) -> None:
    action = _str(payload.get("action"))
    pr = _dict(payload.get("pull_request"))
    if action not in PR_ACTIONS or not pr:
        outcome.note(f"pull_request {clip(action, 40) or '(no action)'} is not used")
        return
    title, body = _str(pr.get("title")), _str(pr.get("body"))
    head = _str(_dict(pr.get("head")).get("ref"))
    keys = acting.keys_in(title, body, head)
    if not keys:
        outcome.note(f"the pull request mentions no {acting.project_key} ticket")
        return
    merged = action == "closed" and bool(pr.get("merged"))
    did = {"opened": "opened", "reopened": "reopened"}.get(
        action, "merged" if merged else "closed without merging"
    )
    repo = _str(_dict(payload.get("repository")).get("full_name"))
    who = _str(_dict(pr.get("merged_by")).get("login")) if merged else ""
    who = who or _str(_dict(pr.get("user")).get("login")) or _str(_dict(payload.get("sender")).get("login"))
    number = payload.get("number", pr.get("number"))
    text = f'Pull request {repo}#{number} "{clip(title, 150)}" {did}'
    text += f" by {who}" if who else ""
    if url := _str(pr.get("html_url")):
        text += f": {url}"

    async def comment(key: str) -> None:
        await acting.comment(key, text)
        outcome.note(f"commented on {key}", changed=True)

    await acting.each(keys, outcome, comment)
    if merged:
        status = str(acting.options.get("close_status", "done"))
        closing = acting.closed_keys_in(title, body)
        await acting.each(closing, outcome, lambda key: acting.move(key, status, outcome))
