"""Make re-exported objects report the public module they are imported from."""

from __future__ import annotations


def report_as(module: str, obj: object) -> None:
    """Set ``obj.__module__`` to ``module`` if ``obj`` is defined in a private module.

    Tracebacks, ``repr`` and doctests then say ``genpipe.RecordError``, not
    the private module it lives in. Methods of a class are claimed too, so
    the doctest finder, which looks for a class's methods in the class's
    module, still finds their examples. Objects that come from elsewhere (type
    aliases of the standard library, a public submodule's) keep their module.
    """
    if not _is_private(getattr(obj, "__module__", None)):
        return
    obj.__module__ = module
    if isinstance(obj, type):
        for attribute in vars(obj).values():
            if isinstance(attribute, property):
                for accessor in (attribute.fget, attribute.fset, attribute.fdel):
                    report_as(module, accessor)
            else:
                report_as(module, getattr(attribute, "__func__", attribute))


def _is_private(module: object) -> bool:
    if not isinstance(module, str) or not module.startswith("genpipe."):
        return False
    return any(part.startswith("_") for part in module.split("."))
