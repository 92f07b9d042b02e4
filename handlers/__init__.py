"""The conversation: one module per feature, each registering its handlers on `router`."""

import importlib
import pkgutil

from handlers.routing import Router, router


def load_handlers() -> Router:
    """Import every handler module so its decorators register it; a new feature is a new file."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return router
