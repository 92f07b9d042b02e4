"""The channel registry: every platform declares its facts, and forgetting one fails early."""

from datetime import timedelta

import pytest

from bot.campaigns.control import rates, reply_windows
from bot.channels.base import Channel, Limits, all_channels, can_send
from bot.links import share_links
from bot.settings import Settings
from tests.channel_env import set_env


def test_a_channel_that_forgets_a_fact_fails_when_it_is_declared() -> None:
    with pytest.raises(TypeError, match="does not declare label, reply_window"):

        class Forgetful(Channel):
            name = "forgetful"
            limits = Limits(text_chars=100, buttons=0, button_label_chars=0)


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
