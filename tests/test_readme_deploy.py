"""The README's deployment section against the code: the URLs it routes are the ones the bot
serves, its commands exist, its service runs unprivileged and comes back after a crash."""

import re
import sys

import pytest
from typer.testing import CliRunner

from bot.channels.base import all_channels
from bot.cli import app
from bot.settings import Settings
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def deploy_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Running it for a centre")
    return readme[start : readme.index("\n## ", start + 1)]


def blocks(section: str, language: str) -> list[str]:
    """The fenced blocks opened with ```language (an empty language: a bare fence)."""
    found: list[str] = []
    opened: str | None = None  # the open block's language, None outside a block
    current: list[str] = []
    for line in section.splitlines():
        if not line.startswith("```"):
            current.append(line)
        elif opened is None:
            opened, current = line[3:], []
        else:
            if opened == language:
                found.append("\n".join(current))
            opened = None
    return found


def test_the_url_table_names_every_channel_webhook(deploy_section: str) -> None:
    served = {
        sys.modules[type(channel).__module__].WEBHOOK_PATH
        for channel in all_channels()
        if hasattr(sys.modules[type(channel).__module__], "WEBHOOK_PATH")
    }
    routed = set(re.findall(r"^\| `(/webhook/[a-z_]+)` \|", deploy_section, flags=re.M))
    assert served and routed == served, (routed, served)
    assert "| `/healthz` |" in deploy_section


def test_the_service_runs_as_its_own_user_and_restarts(deploy_section: str) -> None:
    (unit,) = [b for b in blocks(deploy_section, "ini") if "[Service]" in b]
    settings = dict(
        line.split("=", 1) for line in unit.splitlines() if "=" in line and line[0].isupper()
    )
    assert settings.get("User") not in (None, "", "root")
    assert settings["Restart"] in ("on-failure", "always")
    assert settings["ExecStart"].endswith("/troly serve")


def test_the_reverse_proxy_points_at_where_serve_listens(deploy_section: str) -> None:
    host, port = (Settings.model_fields[name].default for name in ("host", "port"))
    (caddy,) = [b for b in blocks(deploy_section, "") if "reverse_proxy" in b]
    assert f"reverse_proxy {host}:{port}" in caddy


def test_every_troly_command_of_the_section_exists(deploy_section: str) -> None:
    """`troly doctor`, `troly backup`, `troly db copy --from --to`, ...: each parses."""
    commands = set(re.findall(r"`troly ([a-z][a-z -]*?)(?: --| [A-Z/]|`)", deploy_section))
    for shell in blocks(deploy_section, "sh"):
        command_lines = r"^(?:[A-Z_]+=\S+ )?troly ([a-z][a-z ]*?)(?= --| /|$)"
        commands |= set(re.findall(command_lines, shell, flags=re.M))
    assert {"doctor", "backup", "restore", "db upgrade", "db copy"} <= commands, commands
    runner = CliRunner()
    for command in commands:
        result = runner.invoke(app, [*command.split(), "--help"])
        assert result.exit_code == 0, (command, result.output)
    copy_help = runner.invoke(app, ["db", "copy", "--help"]).output
    assert "--from" in copy_help and "--to" in copy_help
