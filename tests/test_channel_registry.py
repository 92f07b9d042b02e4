"""The channel registry: every platform declares its facts, and forgetting one fails early."""

import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from bot.campaigns.control import rates, reply_windows
from bot.channels.base import Channel, Limits, Shown, all_channels, can_send
from bot.links import share_links
from bot.settings import Settings
from tests.channel_env import set_env
from tests.conftest import ROOT

ENOUGH = Limits(text_chars=100, buttons=0, button_label_chars=0)


def test_a_channel_that_forgets_a_fact_fails_when_it_is_declared() -> None:
    with pytest.raises(TypeError, match="does not declare label, reply_window"):

        class Forgetful(Channel):
            name = "forgetful"
            limits = ENOUGH


class Declared(Channel):
    """Every fact declared, but none of the methods: what a new channel starts from."""

    name, label, limits, reply_window = "declared", "Declared", ENOUGH, None


def test_a_channel_without_a_method_it_must_have_fails_when_its_module_is_imported() -> None:
    # A channel module ends with `channel = TheChannel()`: the registry imports it at start-up.
    with pytest.raises(TypeError, match=r"abstract methods? .*configured.*rate.*setup.*show"):
        Declared()  # type: ignore[abstract]

    class NoRate(Declared):
        def configured(self, settings: Settings) -> bool:
            return True

        def setup(self, app: object) -> None: ...

        def show(self, replies: Sequence[object]) -> list[Shown]:
            return []

    with pytest.raises(TypeError, match=r"abstract class NoRate .*abstract method '?rate"):
        NoRate()  # type: ignore[abstract]


def test_a_flag_without_the_method_behind_it_fails_when_it_is_declared() -> None:
    with pytest.raises(TypeError, match="Poller declares can_poll but no enable_polling"):

        class Poller(Declared):
            can_poll = True

    with pytest.raises(TypeError, match="Verbs declares cli_group but no register_cli"):

        class Verbs(Declared):
            cli_group = "verbs"


def test_serving_a_channel_that_cannot_poll_with_poll_says_which_can(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
           "PORT": "0"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--poll", "web"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "web has no polling mode (channels that poll: telegram, zalo_bot)" in done.stderr
    assert "Traceback" not in done.stderr


def test_every_channel_that_can_send_has_a_rate_and_a_window() -> None:
    set_env(campaign_telegram_rate=29, campaign_zalo_rate=5)
    settings = Settings()
    senders = [c for c in all_channels() if can_send(c)]
    assert {c.name for c in senders} >= {"telegram", "zalo", "zalo_bot"}
    declared = rates(settings)
    assert all(declared[c.name] > 0 for c in senders), declared
    assert reply_windows()["zalo"] == timedelta(days=7)
    assert reply_windows()["telegram"] is None
    assert "web" not in reply_windows(), "the web chat cannot start a conversation"


def test_share_links_come_from_each_channel(full_library) -> None:
    guide = full_library.guides["vneid-cai-dat"]
    links = {link.channel: link for link in share_links(full_library, guide, "TV05")}
    assert links["telegram"].url.endswith("?start=g_vneid-cai-dat_TV05")
    assert links["zalo"].url.startswith("https://zalo.me/")
    assert links["zalo"].text_to_type == f"#{guide.code} TV05"
