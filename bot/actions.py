"""Button payloads: the short prefixes the engine routes on, and how each payload is built.

Payloads travel through every platform (some allow 64 bytes of button data at most), so the
prefixes are short; their names live here so nobody has to remember what "g" or "cs" means.
"""

GUIDE = "g"  # g:<guide id>:<step>: a guide, at a step
TOPIC = "t"  # t:<topic id>: the guides of a topic
CAMPAIGN_OPEN = "c"  # c:<campaign id>:<guide id>: a guide opened from a campaign message
CAMPAIGN_STAFF = "cs"  # cs:send:<id> / cs:cancel:<id>: staff confirming a campaign


def guide_step(guide_id: str, step: int = 1) -> str:
    return f"{GUIDE}:{guide_id}:{step}"


def topic(topic_id: str) -> str:
    return f"{TOPIC}:{topic_id}"


def campaign_open(campaign_id: int | None, guide_id: str) -> str:
    return f"{CAMPAIGN_OPEN}:{campaign_id}:{guide_id}"
