"""A round's life: draft → intake → scoring → review → signed.

Forward one step at a time. Stepping back is allowed only where it repairs something and
always needs a written reason: intake → draft (set-up was wrong), scoring → intake (late
entries), review → scoring (scores must be revisited). ``signed`` has one owner: the chair's
sealed sign-off (snapshot, hash, password), never a change of state; a signed round changes
again only when an admin re-opens it with a reason.
"""
from __future__ import annotations

from dataclasses import dataclass

STATES = ("draft", "intake", "scoring", "review", "signed")

# The moves a change of state may make. review → signed is not one of them: only the chair's
# sign-off (web.review) seals a round, so nothing else can sign it without a snapshot.
FORWARD = {"draft": "intake", "intake": "scoring", "scoring": "review"}
BACKWARD = {"intake": "draft", "scoring": "intake", "review": "scoring"}

# How each state is named to people (zh, en): messages never show the stored key alone.
STATE_LABELS = {"draft": ("草稿", "draft"), "intake": ("申报受理", "intake"),
                "scoring": ("专家评分", "scoring"), "review": ("复核", "review"),
                "signed": ("已签署", "signed")}


def state_label_zh(state: str) -> str:
    """The Chinese name of a state (the key itself when unknown)."""
    return STATE_LABELS.get(state, (state, state))[0]


# States in which entries may still be imported.
INTAKE_OPEN = ("draft", "intake")


@dataclass(frozen=True)
class Transition:
    """A checked move between states; ``backward`` moves need a reason."""

    source: str
    target: str
    backward: bool


class TransitionError(ValueError):
    """A move the round's life does not allow; ``zh`` and ``en`` say why, ``code`` names the rule."""

    def __init__(self, zh: str, en: str, code: str = "not_allowed"):
        self.zh, self.en, self.code = zh, en, code
        super().__init__(en)


def check_transition(source: str, target: str, *, reason: str | None = None, key: str = "KEY") -> Transition:
    """The transition ``source`` → ``target`` of round ``key``, or TransitionError saying why not."""
    for state in (source, target):
        if state not in STATES:
            raise TransitionError(f"未知状态“{state}”（可选：{'、'.join(STATES)}）",
                                  f"unknown state {state!r} (known: {', '.join(STATES)})", "unknown_state")
    if source == target:
        raise TransitionError(f"轮次已处于“{state_label_zh(target)}”状态", f"the round is already {target}",
                              "same_state")
    if source == "signed":
        raise TransitionError("已签署的轮次不可再更改状态；如确需修改，由管理员填写理由重新开启"
                              f"（/review/{key}/shortlist 或 POST /api/v1/rounds/{key}/reopen）",
                              "a signed round is final; an admin re-opens it with a reason "
                              f"(/review/{key}/shortlist or POST /api/v1/rounds/{key}/reopen)", "final")
    if target == "signed":
        raise TransitionError(
            "“已签署”只能由评审组组长签署产生：在复核页面 /review/"
            f"{key}/shortlist 重新输入密码签署（或 POST /api/v1/rounds/{key}/shortlist/signoff），"
            "签署时冻结结果快照并计算哈希；不能直接设置为已签署",
            "a round becomes signed only through the chair's sign-off, which freezes the snapshot and its hash: "
            f"the shortlist page /review/{key}/shortlist or POST /api/v1/rounds/{key}/shortlist/signoff; "
            "its state cannot be set to signed", "sign_off_required")
    if FORWARD.get(source) == target:
        return Transition(source, target, backward=False)
    if BACKWARD.get(source) == target:
        if not (reason and reason.strip()):
            raise TransitionError(f"从“{state_label_zh(source)}”退回“{state_label_zh(target)}”须填写理由",
                                  f"going back from {source} to {target} needs --reason", "reason_required")
        return Transition(source, target, backward=True)
    allowed = [s for s in (FORWARD.get(source), BACKWARD.get(source)) if s]
    raise TransitionError(f"不能从“{state_label_zh(source)}”直接变为“{state_label_zh(target)}”"
                          f"（可变为：{'、'.join(map(state_label_zh, allowed))}）",
                          f"cannot go from {source} to {target} (allowed: {', '.join(allowed)})")
