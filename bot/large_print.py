"""Large-print plain text of a guide: numbered steps for the leaflet elderly citizens take home."""

import textwrap

from bot.library import Guide, Library

LINE_WIDTH = 38  # few words per line: the leaflet is printed at 18 pt or larger


def large_print(guide: Guide, library: Library) -> str:
    def wrap(text: str, indent: str = "") -> list[str]:
        lines: list[str] = []
        for paragraph in text.splitlines():
            lines.extend(
                textwrap.wrap(
                    paragraph, LINE_WIDTH, initial_indent=indent, subsequent_indent=indent
                )
                or [""]
            )
        return lines

    out = [*wrap(guide.title.upper()), "=" * LINE_WIDTH, ""]
    for number, step in enumerate(guide.steps, 1):
        out.append(f"BƯỚC {number}. {step.title.upper()}")
        out.extend(wrap(step.body, "   "))
        out.append("")
    profile = library.profile
    out.extend(
        wrap(
            f"Cần giúp: gọi {profile.get('hotline', '')}, hoặc gõ #{guide.code} "
            f"trong Zalo/Telegram của {profile.get('centre_name', '')}."
        )
    )
    return "\n".join(out)
