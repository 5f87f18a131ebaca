"""A small declarative schema: each field both checks a JSON value and describes it in JSON Schema.

The service's request bodies are declared once (:mod:`classifier.service.bodies`) with these
pieces; the endpoints check requests with a declaration and /openapi.json shows the same object
as JSON Schema, so what is documented and what is accepted cannot drift apart.

Why not pydantic: every error must keep its wording, its ``field`` and the order in which
problems are reported, and the document must keep its exact shape. With pydantic that takes a
translation table from its error types to ours and post-processing of its generated schemas,
which is more code than these few classes. The cost per request is about the same either way: a
few microseconds, against milliseconds for the encoder.

Numeric bounds of the clustering parameters are documented here but checked by
:class:`~classifier.clustering.HeadlineClusterer` (:mod:`classifier.clustering.params`), whose
message the service passes on; here their JSON type is checked. An integer too long to be a
number of anything (:class:`TooLongNumber`, from the JSON parser) is refused here, by field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from classifier.service.errors import ApiError
from classifier.text import VISIBLE_PATTERN, headline_problem

MAX_INTEGER_DIGITS = 30  # longer integers stand for nothing a request can mean


@dataclass(frozen=True)
class TooLongNumber:
    """What the JSON parser gives for an integer of more than MAX_INTEGER_DIGITS digits.

    Python refuses to read integers of over 4300 digits at all, with a hint about
    ``sys.set_int_max_str_digits()`` meant for programmers; standing in for such numbers lets the
    field check refuse them by name instead.
    """

    digits: int

    @classmethod
    def parse(cls, text: str) -> int | TooLongNumber:
        """``json.loads``'s ``parse_int``."""
        digits = len(text.lstrip("-"))
        return cls(digits) if digits > MAX_INTEGER_DIGITS else int(text)


JSON_TYPES = {
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
    list: "array",
    dict: "object",
    TooLongNumber: "number",
}


def json_type(value: object) -> str:
    """The JSON name of a parsed value's type, as error messages show it."""
    return JSON_TYPES.get(type(value), type(value).__name__)


def invalid(message: str, field: str | None = None) -> ApiError:
    return ApiError(400, "invalid_input", message, field=field)


def ref(name: str) -> dict[str, str]:
    """A JSON Schema reference to one of the document's components."""
    return {"$ref": f"#/components/schemas/{name}"}


# -- fields ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Headline:
    """One headline: a non-blank string of valid Unicode no longer than ``max_chars``."""

    max_chars: int
    noun = "a string"  # how "missing field" messages describe it

    def check(self, value: object, name: str, index: int | None = None) -> str:
        """``value`` if usable, else a 400 naming ``name`` (``name[index]`` for a list item).

        The checks for a usable headline come first and the message is worked out only for a
        refusal, since a request may carry hundreds of headlines.
        """
        if (
            isinstance(value, str)
            and headline_problem(value) is None  # also refuses lone surrogates (not UTF-8)
            and len(value) <= self.max_chars
        ):
            return value
        raise self._refusal(value, name if index is None else f"{name}[{index}]")

    def _refusal(self, value: object, name: str) -> ApiError:
        problem = headline_problem(value)
        if problem == "not text":
            return invalid(f"{name!r} must be a string, not {json_type(value)}", name)
        if problem == "empty":
            return invalid(f"{name!r} is empty or only whitespace", name)
        length = len(value)  # type: ignore[arg-type]  # headline_problem found text
        if length > self.max_chars:
            return invalid(
                f"{name!r} is {length} characters long; the limit is {self.max_chars}", name
            )
        return invalid(f"{name!r} is not valid Unicode text (it contains a lone surrogate)", name)

    def schema(self) -> dict[str, Any]:
        return {
            "type": "string",
            "minLength": 1,
            "maxLength": self.max_chars,
            "pattern": VISIBLE_PATTERN,
        }


@dataclass(frozen=True)
class Headlines:
    """A list of headlines within the per-request count limits, each one a :class:`Headline`."""

    min_items: int
    max_items: int
    item: Headline
    noun = "an array of strings"

    def check(self, value: object, name: str) -> list[str]:
        if not isinstance(value, list):
            raise invalid(f"{name!r} must be an array of strings, not {json_type(value)}", name)
        if len(value) < self.min_items:
            need = (
                "at least one headline"
                if self.min_items == 1
                else f"at least {self.min_items} headlines"
            )
            raise invalid(f"{name!r} has {len(value)}; send {need}", name)
        if len(value) > self.max_items:
            raise invalid(
                f"too many headlines: {len(value)} sent, at most {self.max_items} per request", name
            )
        check = self.item.check
        return [check(text, name, i) for i, text in enumerate(value)]

    def schema(self) -> dict[str, Any]:
        return {
            "type": "array",
            "items": self.item.schema(),
            "minItems": self.min_items,
            "maxItems": self.max_items,
        }


@dataclass(frozen=True)
class Choice:
    """One of a few strings."""

    options: tuple[str, ...]
    default: str | None = None
    description: str | None = None
    noun = "a string"

    def check(self, value: object, name: str) -> str:
        if value not in self.options:
            shown = repr(value) if isinstance(value, str) else json_type(value)
            raise invalid(
                f"{name!r} must be one of {', '.join(map(repr, self.options))}, not {shown}", name
            )
        return value  # type: ignore[return-value]  # it is one of the options

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"enum": list(self.options)}
        if self.default is not None:
            out["default"] = self.default
        if self.description is not None:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class Number:
    """A number (``whole``: an integer) or null, which means "the default"; never a boolean."""

    whole: bool = False
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    description: str | None = None

    @property
    def noun(self) -> str:
        return "a whole number" if self.whole else "a number"

    def check(self, value: object, name: str) -> int | float | None:
        kinds = (int,) if self.whole else (int, float)
        if value is None:
            return None
        if isinstance(value, TooLongNumber):
            raise invalid(f"{name!r} is a number of {value.digits} digits; far too large", name)
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise invalid(f"{name!r} must be {self.noun}, not {json_type(value)}", name)
        return value

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": ["integer" if self.whole else "number", "null"]}
        bounds = {
            "minimum": self.minimum,
            "maximum": self.maximum,
            "exclusiveMinimum": self.exclusive_minimum,
            "exclusiveMaximum": self.exclusive_maximum,
            "description": self.description,
        }
        out.update({key: value for key, value in bounds.items() if value is not None})
        return out


@dataclass(frozen=True)
class Flag:
    """A boolean (null means "the default", false); a string or number is refused, not guessed."""

    description: str | None = None
    noun = "a boolean"

    def check(self, value: object, name: str) -> bool | None:
        if value is None or isinstance(value, bool):
            return value
        raise invalid(f"{name!r} must be true or false, not {json_type(value)}", name)

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": ["boolean", "null"], "default": False}
        if self.description is not None:
            out["description"] = self.description
        return out


Field = Headline | Headlines | Choice | Number | Flag


# -- bodies ----------------------------------------------------------------------------------
def _object(body: object, allowed: frozenset[str], example: str) -> dict[str, Any]:
    """A JSON object with no fields outside ``allowed`` (a typo should not be ignored)."""
    if not isinstance(body, dict):
        raise invalid(f"the body must be a JSON object like {example}, not {json_type(body)}")
    if body.keys() <= allowed:
        return body
    unknown = sorted(set(body) - allowed)
    raise invalid(
        f"unknown field(s) {', '.join(map(repr, unknown))}; "
        f"this endpoint takes {', '.join(map(repr, sorted(allowed)))}",
        unknown[0],
    )


@dataclass(frozen=True)
class Body:
    """A JSON object body: its fields in the order they are checked, and the required ones.

    ``name`` is its schema's name under ``components/schemas`` in the document and ``example``
    what a refusal of a body that is no object shows. ``check`` returns the checked values of the
    fields present, leaving out nulls (the default).
    """

    name: str
    fields: Mapping[str, Field]
    required: tuple[str, ...]
    example: str

    @cached_property
    def allowed(self) -> frozenset[str]:
        return frozenset(self.fields)

    def check(self, body: object) -> dict[str, Any]:
        body = _object(body, self.allowed, self.example)
        for name in self.required:
            if name not in body:
                raise invalid(f"missing field: {name!r} ({self.fields[name].noun})", name)
        return self.values(body)

    def values(self, body: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for name, field in self.fields.items():
            if name in body:
                value = field.check(body[name], name)
                if value is not None:
                    out[name] = value
        return out

    def schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "required": list(self.required),
            "additionalProperties": False,
            "properties": {name: field.schema() for name, field in self.fields.items()},
        }

    def reference(self) -> dict[str, Any]:
        return ref(self.name)

    def components(self) -> dict[str, dict[str, Any]]:
        return {self.name: self.schema()}


@dataclass(frozen=True)
class OneOf:
    """Exactly one of several bodies, told apart by their one required field."""

    choices: tuple[Body, ...]

    @cached_property
    def allowed(self) -> frozenset[str]:
        return frozenset(name for choice in self.choices for name in choice.fields)

    def check(self, body: object) -> dict[str, Any]:
        body = _object(body, self.allowed, self.choices[0].example)
        present = [choice for choice in self.choices if choice.required[0] in body]
        if len(present) > 1:
            keys = " or ".join(repr(choice.required[0]) for choice in self.choices)
            raise invalid(f"send either {keys}, not both", present[1].required[0])
        if not present:
            wanted = " or ".join(
                f"{choice.required[0]!r} ({choice.fields[choice.required[0]].noun})"
                for choice in self.choices
            )
            raise invalid(f"missing field: send {wanted}", self.choices[0].required[0])
        return present[0].values(body)

    def reference(self) -> dict[str, Any]:
        return {"oneOf": [choice.reference() for choice in self.choices]}

    def components(self) -> dict[str, dict[str, Any]]:
        return {choice.name: choice.schema() for choice in self.choices}
