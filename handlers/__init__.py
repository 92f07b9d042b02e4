"""The conversation: one module per feature, each registering its handlers on `router`."""

from bot.turn import Router, load_features


def load_handlers() -> Router:
    """Import every handler module so its decorators register it (what `troly serve` does)."""
    return load_features(__name__)
