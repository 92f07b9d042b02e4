"""Each channel's own verbs under `troly <group> ...`, collected from the registry."""

import typer

from bot.channels.base import all_channels


def register(app: typer.Typer) -> None:
    groups: dict[str, typer.Typer] = {}
    for channel in all_channels():
        if channel.cli_group is None:
            continue
        group = groups.get(channel.cli_group)
        if group is None:
            group = typer.Typer(help=channel.cli_help, no_args_is_help=True)
            groups[channel.cli_group] = group
            app.add_typer(group, name=channel.cli_group)
        channel.register_cli(group)
