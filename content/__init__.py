"""The bundled guide library, shipped as package data so any install of TroLy can serve it.

`CONTENT_DIR` points the bot at a centre's own copy instead; `bot.library` is the only reader.
"""
