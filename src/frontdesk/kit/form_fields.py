"""A form's fields read as the JSON values their routes take (contract section 0: a JSON
object, a urlencoded form and multipart are "read the same way").

A form carries only text, so a route that takes a boolean, a number, null or a list names
those fields and their kinds, and `typed` turns the form's text into what a JSON body would
have held. Text that is not a value of its kind is left as text, for the route's own check
to refuse with its usual 422. A JSON body passes unchanged: it has real types, and a JSON
client that sends "true" for true gets told.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import orjson

Kind = Callable[[list[str]], Any]

_WORDS = {"true": True, "false": False, "1": True, "0": False}
# What HTML and hand-written forms send: a checked box is "on" (an empty value, off);
# "yes" and "no" for people.
_WORDS |= {"on": True, "off": False, "": False, "yes": True, "no": False}
_WHOLE = re.compile(r"[+-]?[0-9]{1,30}\Z")


class FormFields(dict[str, Any]):
    """A form's fields: each name's first text (as a JSON object holds one value a name),
    and in `every` all of a repeated name's texts, which list fields read.

    `name[]` is the same field as `name`: how jQuery and PHP forms send a list.
    """

    def __init__(self) -> None:
        super().__init__()
        self.every: dict[str, list[str]] = {}

    def add(self, name: str, text: str) -> None:
        name = name.removesuffix("[]")
        self.setdefault(name, text)
        self.every.setdefault(name, []).append(text)


def boolean(texts: list[str]) -> Any:
    return _WORDS.get(texts[0].strip().lower(), texts[0])


def whole_number(texts: list[str]) -> Any:
    text = texts[0].strip()
    return int(text) if _WHOLE.match(text) else texts[0]


def whole_number_or_null(texts: list[str]) -> Any:
    """An empty value is null: `assignee_id=` unassigns, `retention_days=` keeps all."""
    text = texts[0].strip()
    return None if text in ("", "null") else whole_number(texts)


def text_list(texts: list[str]) -> Any:
    """Every value of a repeated name, blank ones dropped (so `labels=` is the empty list);
    or one value holding a JSON array, as a script may send it."""
    if len(texts) == 1 and texts[0].lstrip().startswith("["):
        return json_value(texts)
    return [text for text in texts if text.strip()]


def json_value(texts: list[str]) -> Any:
    """A value a form can't spell (an object, a list of objects) sent as JSON text."""
    try:
        return orjson.loads(texts[0])
    except orjson.JSONDecodeError:
        return texts[0]


def typed(fields: dict[str, Any], kinds: Mapping[str, Kind]) -> dict[str, Any]:
    """`fields` with a form's text turned into the kinds named; a JSON body as it is."""
    if not isinstance(fields, FormFields):
        return fields
    values = dict(fields)
    for name, kind in kinds.items():
        if name in fields.every:
            values[name] = kind(fields.every[name])
    return values
