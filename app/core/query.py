"""Query parameters validated as one model, for the busiest list routes.

FastAPI solves a route's query parameters one by one on every request, working out each
annotation's shape again (FastAPI 0.163): for the catalogue's list, 21 parameters cost more of
the service's CPU than its query (bench/README.md, "2026-11-23 (fourth session)"). A route
that uses `QueryParameters` reads the query string itself and validates it with one pydantic
model, built from the same annotated signatures FastAPI documents, so the rules are written
once: the OpenAPI parameters are what FastAPI generates for those signatures (`documented`),
and an invalid value is the same `RequestValidationError` (location `query`, the parameter's
name) FastAPI would raise, so it becomes the same 422 problem.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.params import Query
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    ValidationError,
    create_model,
)


def _blank_is_none(value: object) -> object:
    """Surrounding spaces dropped; nothing left (`q=`, `q=%20%20`): no search."""
    if isinstance(value, str):
        return value.strip() or None
    return value


# A list's free-text search (`q`), the one rule for every list that takes one: an empty search
# box lists everything, whether it sent `q=` or only spaces; at most 100 characters (200 for
# the catalogue's full-text search) once stripped. Use it with the list's own
# `Query(description=...)`.
SearchText = Annotated[
    Annotated[str, StringConstraints(max_length=100)] | None, BeforeValidator(_blank_is_none)
]
LongSearchText = Annotated[
    Annotated[str, StringConstraints(max_length=200)] | None, BeforeValidator(_blank_is_none)
]
BLANK_SEARCH = " Empty or blank: no search (everything is listed)."


def _is_sequence(annotation: Any) -> bool:
    """list[...] or list[...] | None (the only sequences query signatures use here)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _is_sequence(typing.get_args(annotation)[0])
    if origin is list:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_is_sequence(arg) for arg in typing.get_args(annotation))
    return False


class QueryParameters:
    """The `Query` parameters of one or more signatures, validated together.

    `parse(request)` returns `{parameter name: value}` (defaults included) or raises
    `RequestValidationError`; parameters that are not `Query` (a `Request`, a dependency) are
    left out. `documented` is the OpenAPI parameter list FastAPI writes for `signature`, a
    function with the route's documented parameters (usually the same dependencies).
    """

    def __init__(
        self, name: str, functions: Sequence[Callable[..., Any]], signature: Callable[..., Any]
    ) -> None:
        fields: dict[str, Any] = {}
        self.aliases: dict[str, str] = {}  # query name -> parameter name
        self.sequences: set[str] = set()
        for function in functions:
            hints = typing.get_type_hints(function, include_extras=True)
            for parameter in inspect.signature(function).parameters.values():
                annotation = hints.get(parameter.name)
                queries = _queries_of(annotation)
                if not queries:
                    continue
                if parameter.name in fields:
                    raise ValueError(f"query parameter {parameter.name} is declared twice")
                default = parameter.default
                if default is inspect.Parameter.empty:
                    default = ...
                fields[parameter.name] = (annotation, default)
                alias = next((q.alias for q in reversed(queries) if q.alias), parameter.name)
                self.aliases[alias] = parameter.name
                if _is_sequence(annotation):
                    self.sequences.add(alias)
        self.model: type[BaseModel] = create_model(
            name, __config__=ConfigDict(extra="ignore"), **fields
        )
        self.documented = _documented_parameters(signature)

    def parse(self, request: Request) -> dict[str, Any]:
        params = request.query_params
        data: dict[str, Any] = {}
        for alias in params:
            if alias in self.sequences:
                data[alias] = params.getlist(alias)
            elif alias in self.aliases:
                data[alias] = params[alias]  # the last one, as FastAPI reads it
        try:
            model = self.model.model_validate(data)
        except ValidationError as error:
            raise RequestValidationError(
                [
                    {**item, "loc": ("query", *item["loc"])}
                    for item in error.errors(include_url=False)
                ]
            ) from None
        return dict(model)


def _queries_of(annotation: Any) -> list[Query]:
    """The `Query` markers of a parameter's annotation (nested Annotated are flattened)."""
    if typing.get_origin(annotation) is not Annotated:
        return []
    return [meta for meta in typing.get_args(annotation)[1:] if isinstance(meta, Query)]


def _documented_parameters(signature: Callable[..., Any]) -> list[dict[str, Any]]:
    """The OpenAPI parameters FastAPI writes for a route with this signature."""
    scratch = FastAPI()
    scratch.get("/documented")(signature)
    operation: dict[str, Any] = scratch.openapi()["paths"]["/documented"]["get"]
    parameters: list[dict[str, Any]] = operation.get("parameters", [])
    return parameters
