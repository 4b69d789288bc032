"""The reminder the secretariat sends an expert who has forms still open (Chinese, plain text to
copy into a message or an e-mail)."""
from __future__ import annotations

from ..core.models import Round
from ..core.timefmt import clock_text
from .queries import ExpertProgress

#: the titles a reminder lists before saying how many more there are
TITLES_LISTED = 10


def reminder_text(round_: Round, expert: ExpertProgress, titles: list[str], *, waiting: int = 0) -> str:
    """The reminder for ``expert`` in ``round_``: what is done, what is open (the first titles),
    the abnormal ratings waiting for their explanation, and where to continue."""
    lines = [f"尊敬的{expert.display_name}专家：", ""]
    done = f"您在 {round_.key} 轮次网络视听节目推优评审中共分配 {expert.assigned} 件"
    if expert.recused:
        done += f"（其中回避 {expert.recused} 件）"
    done += f"，已提交 {expert.submitted} 件"
    if expert.open:
        done += f"，尚有 {expert.open} 件未完成（已保存未提交 {expert.saved} 件，尚未评分 {expert.pending} 件）。"
    else:
        done += "，已全部完成，感谢您的辛勤工作。"
    lines.append(done)
    if expert.last_save is not None:
        lines.append(f"您最近一次保存评分的时间为 {clock_text(expert.last_save)}。")
    if titles:
        lines.append("")
        lines.append("尚未完成的作品：")
        lines += [f"  {i}. {title}" for i, title in enumerate(titles[:TITLES_LISTED], start=1)]
        if expert.open > TITLES_LISTED:
            lines.append(f"  ……等共 {expert.open} 件")
    if waiting:
        lines.append("")
        lines.append(f"另有 {waiting} 个评分与其他专家差异较大（畸高/畸低），请登录系统填写书面说明。")
    if expert.open or waiting:
        lines.append("")
        lines.append("请您登录评审系统继续评分，完成后点击“提交”。如遇问题请与评审秘书处联系。")
    lines += ["", "评审秘书处"]
    return "\n".join(lines)
