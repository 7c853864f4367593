# SPDX-License-Identifier: GPL-3.0-or-later
"""A tiny named-backend registry, one per stage.

Factories import their heavy dependencies inside the factory, so listing backends is free and a
missing package turns into a :class:`BackendError` that names what to install.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from .errors import BackendError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, stage: str, default: str) -> None:
        self.stage = stage
        self.default = default
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str, factory: Callable[..., T]) -> None:
        self._factories[name] = factory

    def names(self) -> list[str]:
        return sorted(self._factories)

    def create(self, name: str | None = None, **options) -> T:
        name = name or self.default
        try:
            factory = self._factories[name]
        except KeyError:
            raise BackendError(
                f"unknown {self.stage} backend {name!r}; available: {', '.join(self.names())}"
            ) from None
        return factory(**options)
