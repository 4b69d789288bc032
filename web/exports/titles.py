"""A round's documents named in words, as a bureau titles them: "2025年第三季度网络视听节目推优专家评审结果
（总局评审）", "2025年度优秀传播案例推优专家评审结果（浙江省推荐）" — derived here and nowhere else."""
from __future__ import annotations

from dataclasses import dataclass

from ..core.models import Round

QUARTERS = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}
#: What each document is, after the round's name.
DOCUMENTS = {"shortlist": "推优专家评审结果", "rankings": "推优专家评审完整排名", "announcement": "推优名单公示"}


@dataclass(frozen=True)
class DocumentTitle:
    """The title line and the stage line beneath it."""

    title: str
    stage: str

    @property
    def full(self) -> str:
        return f"{self.title}（{self.stage}）"


def period_words(*, year: int, quarter: int | None, kind: str) -> str:
    """"2025年第三季度网络视听节目", "2025年度网络视听节目", "2025年度优秀传播案例"."""
    if kind == "dissemination":
        return f"{year}年度优秀传播案例"
    if kind == "quarter" and quarter in QUARTERS:
        return f"{year}年{QUARTERS[quarter]}网络视听节目"
    return f"{year}年度网络视听节目"


def stage_words(*, stage: str, unit: str | None) -> str:
    """"总局评审", or a provincial round's unit and what it does: "浙江省推荐"."""
    if stage == "provincial":
        place = unit or "省级"
        for body in ("广播电视局", "广电局"):  # a unit may be given as its bureau: 浙江省广播电视局 → 浙江省
            place = place.removesuffix(body) or place
        return f"{place}推荐"
    return "总局评审"


def document_title(*, year: int, quarter: int | None, kind: str, stage: str, unit: str | None,
                   document: str = "shortlist") -> DocumentTitle:
    """The title of ``document`` (shortlist, rankings, announcement) for a round so described."""
    if document not in DOCUMENTS:
        raise ValueError(f"unknown document {document!r} (one of {', '.join(DOCUMENTS)})")
    return DocumentTitle(period_words(year=year, quarter=quarter, kind=kind) + DOCUMENTS[document],
                         stage_words(stage=stage, unit=unit))


def round_title(round_: Round, document: str = "shortlist") -> DocumentTitle:
    """:func:`document_title` of a stored round."""
    return document_title(year=round_.year, quarter=round_.quarter, kind=round_.kind.value,
                          stage=round_.stage.value, unit=round_.unit, document=document)
