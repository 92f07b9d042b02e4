"""`python -m bot` runs the same CLI as the `troly` console script."""

from bot.cli import main

main()
