"""A guide's step as a citizen receives it, on any channel: the conversation shows it, and the
console sends it to a citizen and shows staff how each channel draws it."""

from bot import actions
from bot.library import Guide, Library
from bot.messages import Button, Reply


def step_replies(library: Library, guide: Guide, number: int) -> list[Reply]:
    """Step `number` as every citizen gets it, whatever the channel: the heading, the text, and
    next, back, the related guides after the last step, the menu."""
    total = len(guide.steps)
    step = guide.steps[number - 1]
    heading = library.text(
        "step_heading", title=guide.title, number=number, total=total, heading=step.title
    )
    buttons: list[Button] = []
    if number < total:
        buttons.append(
            Button(library.text("btn_next"), action=actions.guide_step(guide.id, number + 1))
        )
    if number > 1:
        buttons.append(
            Button(library.text("btn_back"), action=actions.guide_step(guide.id, number - 1))
        )
    if number == total:
        related = [library.guides[r] for r in guide.related if r in library.guides]
        buttons.extend(Button(g.title, action=actions.guide_step(g.id)) for g in related)
        done = library.text("guide_done") + (
            "\n" + library.text("related_prompt") if related else ""
        )
        body = f"{heading}\n\n{step.body}\n\n{done}"
    else:
        body = f"{heading}\n\n{step.body}"
    buttons.append(Button(library.text("btn_menu"), action=actions.MENU))
    return [Reply(body, tuple(buttons))]
