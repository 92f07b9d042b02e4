"""Button payloads: the short prefixes the engine routes on, and how each payload is built.

Payloads travel through every platform (some allow 64 bytes of button data at most), so the
prefixes are short; their names live here so nobody has to remember what "g" or "cs" means.
"""

GUIDE = "g"  # g:<guide id>:<step>: a guide, at a step
TOPIC = "t"  # t:<topic id>: the guides of a topic
CAMPAIGN_OPEN = "c"  # c:<campaign id>:<guide id>: a guide opened from a campaign message
CAMPAIGN_STAFF = "cs"  # cs:send:<id> / cs:cancel:<id>: staff confirming a campaign
SURVEY = "sv"  # sv:<survey id>[:<source>]: a survey's invitation (links, posters, campaigns)
SURVEY_BEGIN = "svb"  # svb:<survey id>[:<source>]: the person starts answering
SURVEY_ANSWER = "svq"  # svq:<survey code>:<question>:<choice>: a button answering a question
SUBSCRIBE = "sub"  # sub:on / sub:off: news from the centre
TAGS = "tag"  # tag, tag:v|t, tag:v|t:<index>: the hamlet and topics someone follows
RATE = "rate"  # rate:h:<0|1> helpful?, rate:s:<level> satisfaction
MENU = "menu"
HELP = "help"
STAFF = "staff"  # ask for a person (a hand-off)
HANDOFF_END = "handoff_end"
STAFF_ROOM = "staffroom"  # a staff group registers itself as the staff room
FEEDBACK = "feedback"
FEEDBACK_SKIP = "feedback_skip"  # no contact details for the ticket
SHARE = "share"  # share, share:qr: a volunteer's personal link
ERASE = "erase"
ERASE_YES = "erase_yes"
ERASE_NO = "erase_no"


def guide_step(guide_id: str, step: int = 1) -> str:
    return f"{GUIDE}:{guide_id}:{step}"


def topic(topic_id: str) -> str:
    return f"{TOPIC}:{topic_id}"


def campaign_open(campaign_id: int | None, guide_id: str) -> str:
    return f"{CAMPAIGN_OPEN}:{campaign_id}:{guide_id}"
