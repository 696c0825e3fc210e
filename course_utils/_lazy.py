"""Lazy re-exports for package ``__init__`` files (PEP 562): a name is imported from its module on first use.

A package declares which of its modules define which public names::

    __getattr__, __dir__, __all__ = lazy_exports(__name__, {"block": ["NonLocalBlock"], "widget": ["affinity_widget"]})

``from course_utils.non_local import NonLocalBlock`` then imports ``course_utils.non_local.block`` and nothing else,
so importing a package costs nothing until a name is used, and a tool that needs none of torch, PyAV or matplotlib
(the grader, the authoring tool) never loads them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence


def lazy_exports(package: str, exports: Mapping[str, Sequence[str]]
                 ) -> tuple[Callable[[str], object], Callable[[], list[str]], list[str]]:
    """Build a package's ``__getattr__``, ``__dir__`` and ``__all__`` from ``{module: [public names]}``.

    Args:
        package: the package's ``__name__``.
        exports: for each module (relative to the package, e.g. ``"block"``, or absolute, e.g.
            ``"course_utils.data"``), the public names it defines that the package re-exports.

    Returns:
        ``(__getattr__, __dir__, __all__)``; ``__all__`` is sorted.

    Raises:
        ValueError: when two modules export the same name.
    """
    owner: dict[str, str] = {}
    for module, names in exports.items():
        target = module if module.startswith("course_utils") else f"{package}.{module}"
        for name in names:
            if name in owner:
                raise ValueError(f"{package}: {name!r} is exported by both {owner[name]} and {target}")
            owner[name] = target
    public = sorted(owner)

    def __getattr__(name: str) -> object:
        if name not in owner:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(owner[name]), name)

    def __dir__() -> list[str]:
        return public

    return __getattr__, __dir__, public
