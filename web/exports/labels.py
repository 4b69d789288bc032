"""Chinese words for what exports print: methods, fall-back reasons, states, overrides, parameters."""
from __future__ import annotations

METHOD_LABELS = {"affine": "仿射模型（评委偏差与尺度）", "additive": "加性模型（评委偏差）",
                 "additive_random": "加性模型（评委偏差按随机效应收缩）", "zscore": "标准分",
                 "trimmed": "去掉最高分和最低分的均值", "raw": "原始均值"}
STATE_LABELS = {"signed": "已签署", "proposed": "建议名单（未签署）", "unsaved": "建议名单（未保存，未签署）",
                "draft": "草稿", "intake": "申报受理", "scoring": "专家评分", "review": "复核"}
DIRECTIONS = {"high": "畸高", "low": "畸低"}
#: Why a work the list skips was not proposed (scoring/rules/shortlist.py's reasons).
SKIP_REASONS = {"below_min_score": "标准化得分低于入选线", "below_bar": "标准化得分低于入选线",
                "beyond_slots": "超出本类别名额", "no_slots": "本类别无名额", "capped": "超出推荐比例上限",
                "ineligible": "不符合参评条件"}


def method_label(name: str) -> str:
    """The method in words (the code itself when unknown)."""
    return METHOD_LABELS.get(name, name)


def reason_text(code: str, checks: dict | None = None) -> str:
    """Why a category fell back from the method asked for, in words (as the chair's pages say it)."""
    checks = checks or {}
    if code == "few_ratings_per_rater":
        return (f"评委人均评分太少（典型评委只评了 {checks.get('typical_ratings_per_rater', 0):g} 件），"
                "无法估计评委的打分尺度或偏差分布")
    return {"single_rating_raters": "多数评分来自只评了一件的评委，其偏差无法估计",
            "disconnected": f"本类别作品分属 {checks.get('n_components', '多')} 个互不相连的评委组，评委偏差无法放到同一尺度上",
            "no_spread": "本类别全部评分完全相同，没有可以估计的差异",
            "one_rater": "只有一位评委，无法估计评委效应",
            "no_rater_effects": "评分中看不出评委之间超出随机误差的差异（估计的评委方差为 0）"}.get(code, code)


def category_method_text(category: dict, asked: str) -> str:
    """"按仿射模型（评委偏差与尺度）计算" or, after a fall-back, the method used and why."""
    used = category.get("method_used") or asked
    text = f"按{method_label(used)}计算"
    if used != asked:
        reasons = [reason_text(code, category.get("checks")) for code in category.get("codes") or [category.get("code")]
                   if code]
        text += f"（所选{method_label(asked)}无法估计：{'；'.join(reasons) or category.get('reason', '')}）"
    return text


def criterion_labels() -> dict[str, str]:
    """Criterion key → its Chinese label, over every configured criteria set."""
    from scoring.rules.config import load_rules

    return {c.key: c.label for criteria in load_rules().criteria_sets.values() for c in criteria.criteria}


def params_lines(params: dict) -> list[str]:
    """The method's parameters as lines a reader understands (never a raw dict)."""
    lines = []
    if params.get("band") is not None:
        lines.append(f"名次区间：{params['band']:.0%} 区间（参数自助法，随机种子 {params.get('seed')}）")
    if params.get("threshold") is not None:
        lines.append(f"入选线：标准化得分不低于 {float(params['threshold']):.2f}")
    if params.get("slots"):
        lines.append("各类别名额：" + "、".join(f"{name} {n}" for name, n in params["slots"].items()))
    if params.get("criteria"):
        names = criterion_labels()
        lines.append("评分项（权重，分值范围）：" + "；".join(
            f"{names.get(c['key'], c['key'])}（{float(c['weight']):.2f}，{c['min']:g}–{c['max']:g}）"
            for c in params["criteria"]))
    if params.get("ineligible"):
        lines.append(f"不符合参评条件而不入选的作品：{len(params['ineligible'])} 件")
    if params.get("format"):
        lines.append(f"快照格式：第 {params['format']} 版（可用 tuiyou result verify 复核）")
    return lines
