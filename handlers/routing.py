"""The router every handler module registers on (see bot/turn.py for Turn and Router)."""

from bot.turn import Handler, ModeHandler, Replies, Router, Turn, router

__all__ = ["Handler", "ModeHandler", "Replies", "Router", "Turn", "router"]
