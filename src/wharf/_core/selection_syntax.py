"""Dagster's asset selection syntax, parsed into an :class:`AssetSelection`.

Both forms Dagster accepts::

    key:"raw" or key:"mart_*"        filters: key (``*`` wildcards), tag:"k" / tag:"k"="v",
    group:"g", owner:"o", kind:"k"
    +key:"raw"   2+x   x+   x+3       layers: N levels upstream (left) / downstream (right)
    *x   x*                           every level upstream / downstream (the older syntax)
    ++x  x++                          one level per ``+`` (the older syntax)
    a and b   a or b   not a   ( )    operands; ``and`` binds tighter than ``or``
    roots(...)   sinks(...)   *       functions; ``*`` alone is every asset
    raw   a/b                         a bare name is an exact key (``a/b``: a multi-part key)

Recursive descent over the text: ``expr := term ("or" term)*``, ``term := factor ("and"
factor)*``, ``factor := "not" factor | up? primary down?``.
"""

from __future__ import annotations

import re

from wharf._core.keys import AssetKey
from wharf._core.selection import AssetSelection
from wharf.errors import DefinitionError

_NAME = re.compile(r"[A-Za-z0-9_\-./\[\]?]+")
_VALUE = re.compile(r'"((?:[^"\\]|\\.)*)"|([A-Za-z0-9_\-./\[\]?*@:]+?)(?=[\s()=+]|$)')
_ATTRS = ("key", "tag", "group", "owner", "kind")
_FUNCS = ("roots", "sinks")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    # -- scanning ------------------------------------------------------------------------
    def fail(self, expected: str) -> DefinitionError:
        got = self.text[self.pos : self.pos + 12] or "the end"
        msg = (
            f"selection {self.text!r} is not valid at position {self.pos}: expected {expected}, "
            f"got {got!r}"
        )
        return DefinitionError(msg, expected=expected, got=got)

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self, s: str) -> bool:
        self.skip()
        return self.text.startswith(s, self.pos)

    def word(self, w: str) -> bool:
        """Consume the keyword ``w`` when it stands alone here."""
        self.skip()
        end = self.pos + len(w)
        if self.text.startswith(w, self.pos) and not _NAME.match(self.text[end : end + 1]):
            self.pos = end
            return True
        return False

    # -- grammar -------------------------------------------------------------------------
    def parse(self) -> AssetSelection:
        sel = self.expr()
        self.skip()
        if self.pos != len(self.text):
            raise self.fail("'and', 'or' or the end")
        return sel

    def expr(self) -> AssetSelection:
        sel = self.term()
        while self.word("or"):
            sel = sel | self.term()
        return sel

    def term(self) -> AssetSelection:
        sel = self.factor()
        while self.word("and"):
            sel = sel & self.factor()
        return sel

    def factor(self) -> AssetSelection:
        if self.word("not"):
            return AssetSelection.all(include_sources=True) - self.factor()
        up = self.up_layer()
        sel = self.primary()
        down = self.down_layer()
        out = sel
        if up is not False:
            out = out | sel.upstream(up)
        if down is not False:
            out = out | sel.downstream(down)
        return out

    def up_layer(self) -> int | bool | None:
        """Levels upstream written before a primary: ``*`` (all), ``2+``, ``++``; False: none."""
        self.skip()
        m = re.compile(r"(\d+)\+").match(self.text, self.pos)
        if m:
            self.pos = m.end()
            return int(m.group(1))
        if self.text.startswith("*", self.pos) and self._starts_primary(self.pos + 1):
            self.pos += 1
            return None
        count = 0
        while self.text.startswith("+", self.pos):
            count, self.pos = count + 1, self.pos + 1
        return count if count else False

    def _starts_primary(self, at: int) -> bool:
        rest = self.text[at:]
        return bool(rest) and (rest[0] == "(" or bool(_NAME.match(rest)))

    def down_layer(self) -> int | bool | None:
        if self.text.startswith("*", self.pos):
            self.pos += 1
            return None
        if not self.text.startswith("+", self.pos):
            return False
        m = re.compile(r"\+(\d+)").match(self.text, self.pos)
        if m:
            self.pos = m.end()
            return int(m.group(1))
        count = 0
        while self.text.startswith("+", self.pos):
            count, self.pos = count + 1, self.pos + 1
        return count

    def primary(self) -> AssetSelection:
        self.skip()
        if self.peek("("):
            self.pos += 1
            sel = self.expr()
            if not self.peek(")"):
                raise self.fail("')'")
            self.pos += 1
            return sel
        if self.text.startswith("*", self.pos):
            self.pos += 1
            return AssetSelection.all()
        m = _NAME.match(self.text, self.pos)
        if not m:
            raise self.fail("an asset key, an attribute (key:, tag:, group:, ...) or '('")
        name = m.group(0)
        after = m.end()
        if self.text.startswith(":", after):
            self.pos = after + 1
            return self.attribute(name)
        if name in _FUNCS and self.text.startswith("(", after):
            self.pos = after + 1
            inner = self.expr()
            if not self.peek(")"):
                raise self.fail("')'")
            self.pos += 1
            return inner.roots() if name == "roots" else inner.sinks()
        # a bare key; '+' or '*' right after it is a layer, not part of the name
        self.pos = after
        return AssetSelection.keys(AssetKey.from_user_string(name))

    def value(self) -> str:
        m = _VALUE.match(self.text, self.pos)
        if not m or m.end() == self.pos:
            raise self.fail('a value ("quoted" or plain)')
        self.pos = m.end()
        return m.group(1).replace('\\"', '"') if m.group(1) is not None else m.group(2)

    def attribute(self, name: str) -> AssetSelection:
        if name not in _ATTRS:
            raise self.fail(f"one of the attributes {', '.join(_ATTRS)} (got {name!r})")
        value = self.value()
        if name == "key":
            if "*" in value:
                return AssetSelection.key_wildcard(value)
            return AssetSelection.keys(AssetKey.from_user_string(value))
        if name == "tag":
            tag_value = None
            if self.text.startswith("=", self.pos):
                self.pos += 1
                tag_value = self.value()
            return AssetSelection.tag(value, tag_value, include_sources=True)
        if name == "group":
            return AssetSelection.groups(value, include_sources=True)
        if name == "owner":
            return AssetSelection.owner(value)
        return AssetSelection.kind(value)


def parse_selection(text: str) -> AssetSelection:
    """``text`` in Dagster's selection syntax as an :class:`AssetSelection`.

    Raises:
        DefinitionError: the text is not valid selection syntax (the message shows where).
    """
    if not text.strip():
        msg = "selection '' is empty: expected an asset key or a selection expression"
        raise DefinitionError(msg, expected="a selection", got="''")
    return _Parser(text).parse()
