"""The settings tables of ``docs/configuration.md``, rendered from :class:`AuthSettings`.

``python -m sanic_auth_sessions.core.settings_docs`` rewrites the part of the page between the
marker comments; ``--check`` only says whether it is out of date (exit status 1).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import annotated_types
from pydantic.fields import FieldInfo

from sanic_auth_sessions.core.config import THROTTLE, AuthSettings, config_key

START = "<!-- settings:start (generated from AuthSettings; do not edit by hand) -->"
END = "<!-- settings:end -->"
PAGE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"

# Text that follows a section's table.
NOTES = {
    THROTTLE: "Limits are strings in the syntax of the [`limits`](https://limits.readthedocs.io/) "
    'library: `"10/minute"`, `"100/hour"`, or several separated by `;` (`"5/minute;50/hour"`).',
}
_DURATIONS = ((24 * 60 * 60, "days", "day"), (60 * 60, "h", "h"), (60, "min", "min"))


def _extra(field: FieldInfo) -> dict[str, Any]:
    extra = field.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def section_of(field: FieldInfo) -> str:
    return str(_extra(field)["section"])


def shown_default(name: str, field: FieldInfo) -> str:
    """The default as the table shows it: ``900`` (15 min), ``true``, unset, none."""
    shown = _extra(field).get("shown")
    if shown is not None:
        return str(shown)
    value = field.default
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value == ():
        return "none"
    text = f"`{value}`"
    if isinstance(value, int) and name.endswith("_s"):
        for seconds, plural, singular in _DURATIONS:
            if value >= seconds and value % seconds == 0:
                count = value // seconds
                return f"{text} ({count} {plural if count > 1 else singular})"
    return text


def rules_of(field: FieldInfo) -> str:
    """The allowed values, from the field's type and bounds: ``One of …``, ``From 4 to 31``."""
    if get_origin(field.annotation) is Literal:
        return "One of " + ", ".join(f"`{value}`" for value in get_args(field.annotation)) + "."
    low = high = None
    for item in field.metadata:
        if isinstance(item, annotated_types.Ge):
            low = item.ge
        elif isinstance(item, annotated_types.Le):
            high = item.le
        elif isinstance(item, annotated_types.Gt) and item.gt == 0:
            return "Must be positive."
    if low is not None and high is not None:
        return f"From {low:,} to {high:,}."
    if low is not None:
        return f"At least {low:,}."
    return ""


def render() -> str:
    """The sections and their tables, markers included."""
    sections: dict[str, list[str]] = {}
    for name, field in AuthSettings.model_fields.items():
        meaning = " ".join(part for part in (field.description or "", rules_of(field)) if part)
        row = f"| `{config_key(name)}` | {shown_default(name, field)} | {meaning} |"
        sections.setdefault(section_of(field), []).append(row)
    lines = [START]
    for title, rows in sections.items():
        lines += ["", f"## {title}", "", "| key | default | meaning |", "|---|---|---|", *rows]
        if title in NOTES:
            lines += ["", NOTES[title]]
    lines += ["", END]
    return "\n".join(lines)


def replace_block(page: str, block: str) -> str:
    """``page`` with the text between the markers (markers included) replaced by ``block``."""
    start, end = page.find(START), page.find(END)
    if start < 0 or end < start:
        raise ValueError(f"The page needs the markers {START!r} and {END!r}.")
    return page[:start] + block + page[end + len(END) :]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sanic_auth_sessions.core.settings_docs")
    parser.add_argument("page", nargs="?", type=Path, default=PAGE)
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is outdated")
    args = parser.parse_args(argv)
    current = args.page.read_text(encoding="utf-8")
    wanted = replace_block(current, render())
    if current == wanted:
        print(f"{args.page}: up to date.")
        return 0
    if args.check:
        print(f"{args.page}: outdated; run python -m sanic_auth_sessions.core.settings_docs.")
        return 1
    args.page.write_text(wanted, encoding="utf-8")
    print(f"{args.page}: rewritten.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
