"""The chair console's pages: rankings, drill-down, diagnostics, sensitivity, shortlist and sign-off.

Chair and admin only (experts 403). Every write refuses a signed round with a 423 page.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from markupsafe import Markup

from scoring.rules.abnormal import load_abnormal_rule
from scoring.normalize import DEFAULT_METHOD, METHODS
from scoring.rules.config import load_rules

from ..core.access import current_user, role_required
from ..core.db import get_session
from ..core.errors import Refused, on_refusal
from ..core.inputs import record_id
from ..core.memo import kept
from ..core.models import Role, RoundState
from ..rating.operations import allow_reopen
from ..core.timefmt import clock_text
from ..rating.queries import assignment_in_round
from ..rounds.queries import list_rounds, round_or_404
from ..rating import flags
from ..signing import queries as signing_queries
from ..signing.operations import ensure_writable
from . import charts, derived, operations, queries, services
from .rankings import DOWNWEIGHT_BADGE
from .sections import shortlist_sections

bp = Blueprint("review", __name__, url_prefix="/review", template_folder="templates")
CHAIR = (Role.chair, Role.admin)
PAGE_ALL_UP_TO, PAGE_HEAD = 1000, 60  # rankings page: every row up to this many works, else the head per category
#: shortlist page of a round with more entries than PAGE_ALL_UP_TO: per category the entries up to the
#: last one included or proposed and SHORTLIST_WINDOW more (and every one moved, included or straddling
#: the cut further down); one category at a time in pages of SHORTLIST_PAGE with every entry
SHORTLIST_WINDOW, SHORTLIST_PAGE = 10, 200
OUTLIERS_SHOWN = 40  # diagnostics: the model's outlying ratings listed (all are counted)


def _round(key: str):
    return round_or_404(session=get_session(), key=key)


def _method() -> str:
    try:
        return services.parse_method(request.args.get("method") or request.form.get("method"))
    except Refused:
        abort(400)


def _back_to_shortlist(key: str, **_args) -> str:
    return url_for("review.shortlist", key=key)


def _locked_page(refused: Refused, key: str, **_args):
    """A write to a signed round: the page that says so (423), not a flash."""
    if refused.status == 423:
        return render_template("review/locked.html", message=refused.message, key=key), 423
    return None


def _common(round_, method: str, latest: services.LatestRanking | None = None) -> dict:
    """What every console page shows; with ``latest``, when its result was computed and whether
    a newer one is being computed ("正在更新")."""
    return {"round": round_, "method": method, "methods": list(METHODS), "default_method": DEFAULT_METHOD,
            "locked": signing_queries.round_is_locked(round_),
            "computed_at": clock_text(latest.computed_at) if latest else None,
            "updating": latest.updating if latest else False}


@bp.get("/")
@role_required(*CHAIR)
def index():
    """Rounds a chair can review: their state and links to the console."""
    rounds = [r for r in list_rounds(session=get_session()) if r.state.value in ("scoring", "review", "signed")]
    return render_template("review/index.html", rounds=rounds)


@bp.get("/<key>/rankings")
@role_required(*CHAIR)
def rankings(key: str):
    """Rankings per category with bands, raw mean, P(shortlist) and flags; method switchable."""
    db, round_, method = get_session(), _round(key), _method()
    latest = services.latest_ranking(session=db, round_=round_, method=method)
    ranking = latest.ranking
    category = request.args.get("category") or ""
    by_category = ranking.by_category
    groups = ({category: by_category[category]} if category in by_category else {}) if category else by_category
    # A national-scale round (thousands of works) shows the head of each category; one category shows all.
    shown = PAGE_HEAD if not category and len(ranking.rows) > PAGE_ALL_UP_TO else None
    policy = services.policy_for(round_, received=len(ranking.rows))
    threshold = max([t for t in (policy.min_score, policy.bar) if t is not None], default=None)
    # what is the same for every reader of this stored result is rendered once per process and kept with it
    # (a category the round does not have shows no table: one key for all of them, so that made-up
    # names cannot grow the memo)
    shown_as = (str(get_locale()), round_.key, method, category if category in groups or not category else "?",
                shown, threshold, tuple(sorted((policy.slots or {}).items())))
    chart = kept(ranking.memo, ("rankings chart", *shown_as), None, lambda: charts.score_distribution(
        [(name, [r.score for r in rows]) for name, rows in groups.items()], threshold=threshold,
        label=_("各类别得分分布")))
    tables = kept(ranking.memo, ("rankings tables", *shown_as), None, lambda: Markup(render_template(
        "review/_ranking_tables.html", round=round_, method=method, ranking=ranking, groups=groups, policy=policy,
        shown=shown)))
    return render_template("review/rankings.html", **_common(round_, method, latest), ranking=ranking,
                           category=category, categories=sorted(by_category),
                           chart=chart, policy=policy, tables=tables)


@bp.get("/<key>/works/<int:item_id>")
@role_required(*CHAIR)
def work(key: str, item_id: int):
    """Every rating of one work by every expert per criterion, with residuals, flags, comments, tags."""
    db, round_, method = get_session(), _round(key), _method()
    try:
        ranking = services.latest_ranking(session=db, round_=round_, method=method).ranking
    except ValueError as exc:  # early in scoring (e.g. one expert submitted): the ratings, without a fit
        ranking, unfitted = None, str(exc)
    else:
        unfitted = ""
    items = queries.round_items(session=db, round_=round_)
    if item_id not in items:
        abort(404)
    per_rating = {r["assignment_id"]: r for r in ranking.ratings} if ranking else {}
    rules = load_rules()
    criteria_set = rules.criteria_sets[round_.criteria_set]
    highlights = {h.key: h for h in criteria_set.highlights}
    return render_template("review/work.html", **_common(round_, method), item_id=item_id,
                           title=items[item_id][0], category=items[item_id][1], unfitted=unfitted,
                           row=ranking.row(item_id) if ranking else None, ranking=ranking,
                           downweight_badge=DOWNWEIGHT_BADGE,
                           ratings=queries.item_ratings(session=db, round_=round_, item_id=item_id),
                           fitted=per_rating, criteria=criteria_set.criteria, highlights=highlights,
                           scoring=round_.state == RoundState.scoring)


@bp.post("/<key>/works/<int:item_id>/ratings/<int:assignment_id>/allow-reopen")
@on_refusal(lambda key, item_id, assignment_id: url_for("review.work", key=key, item_id=item_id)
            + f"#rating-{assignment_id}")
@role_required(*CHAIR)
def allow_reopen_rating(key: str, item_id: int, assignment_id: int):
    """The chair lets the expert reopen one submitted form of this work (round in scoring)."""
    db, round_ = get_session(), _round(key)
    found = assignment_in_round(session=db, assignment_id=assignment_id)
    if found is None or found[1].id != round_.id or item_id not in (found[0].work_id, found[0].case_id):
        abort(404)
    back = url_for("review.work", key=key, item_id=item_id) + f"#rating-{assignment_id}"
    allow_reopen(session=db, chair=current_user(), assignment=found[0], round_=round_)
    flash(_("已允许该专家重新打开评分表一次。"), "info")
    return redirect(back), 303


@bp.get("/<key>/diagnostics")
@role_required(*CHAIR)
def diagnostics(key: str):
    """Completion, rater bias and scale with intervals, reliability, flags, connectivity."""
    db, round_, method = get_session(), _round(key), _method()
    latest = services.latest_ranking(session=db, round_=round_, method=method)
    ranking = latest.ranking
    by_expert, by_category = queries.completion(session=db, round_=round_)
    names = queries.user_names(session=db, ids={r["expert_id"] for r in ranking.raters})
    outliers = derived.outliers(ranking)  # derived with the stored result, as is the reliability
    titles = {f["item_id"]: row.title for f in outliers[:OUTLIERS_SHOWN]
              if (row := ranking.row(f["item_id"])) is not None}
    return render_template("review/diagnostics.html", **_common(round_, method, latest), ranking=ranking,
                           by_expert=by_expert, by_category=by_category, names=names, titles=titles,
                           reliability=derived.reliability(ranking), outliers=outliers,
                           outliers_shown=OUTLIERS_SHOWN,
                           abnormal=flags.abnormal_ratings(session=db, round_=round_),
                           disagreements=ranking.disagreements,
                           work_url=url_for("review.work", key=key, item_id=0)[:-1],
                           chart=charts.rater_effects(ranking.raters, names, label=_("评委偏差与尺度（95% 区间）")))


@bp.get("/<key>/sensitivity")
@role_required(*CHAIR)
def sensitivity(key: str):
    """The works whose proposed status changes between normalization methods."""
    db, round_ = get_session(), _round(key)
    methods, rows = services.sensitivity(session=db, round_=round_)
    return render_template("review/sensitivity.html", **_common(round_, DEFAULT_METHOD), all_methods=methods,
                           rows=rows)


@bp.get("/<key>/shortlist")
@role_required(*CHAIR)
def shortlist(key: str):
    """The proposal per category, straddling works flagged, overrides with reasons, sign-off, versions.

    A round of more than ``PAGE_ALL_UP_TO`` entries shows per category the head of the list (up
    to the last entry included or proposed, ``SHORTLIST_WINDOW`` more, and every entry moved,
    included or straddling the cut further down); ``?category=`` shows every entry of one
    category, ``SHORTLIST_PAGE`` a page (``&page=N``), so the chair reaches any entry."""
    db, round_ = get_session(), _round(key)
    view = services.shortlist_view(session=db, round_=round_, method=_method(), latest=True)
    category = request.args.get("category") or ""
    windowed = len(view.entries) > PAGE_ALL_UP_TO
    sections = shortlist_sections(view.entries, category=category, windowed=windowed,
                                  page=_page_number(), window=SHORTLIST_WINDOW, page_size=SHORTLIST_PAGE)
    band_charts = {s.name: charts.rank_bands(s.rows, cut=s.included, label=_("%(category)s：名次区间与入选线",
                                                                            category=s.name))
                   for s in sections}
    versions = signing_queries.result_versions(session=db, round_=round_)
    stored = queries.get_shortlist(session=db, round_=round_)
    signatures = signing_queries.sign_offs(session=db, shortlist=stored) if stored else []
    names = queries.user_names(session=db, ids={v.signed_by for v in versions} |
                               {v.reopened_by for v in versions if v.reopened_by})
    return render_template("review/shortlist.html", **_common(round_, view.method, view.latest), view=view,
                           sections=sections, category=category, windowed=windowed,
                           included_total=sum(1 for e in view.entries if e["included"]),
                           ranking=view.ranking, work_url=url_for("review.work", key=key, item_id=0)[:-1],
                           override_url=url_for("review.override", key=key, entry_id=0)[:-1],
                           band_charts=band_charts, versions=versions, names=names, signatures=signatures,
                           events=queries.review_events(session=db, round_=round_),
                           policy=services.policy_for(round_, received=len(view.entries)))


def _page_number() -> int:
    number = record_id(request.args.get("page") or "1")  # the one parser of a number from a query
    if number is None or not 1 <= number <= 100_000:
        abort(400)
    return number


@bp.post("/<key>/shortlist")
@on_refusal(_back_to_shortlist, page=_locked_page)
@role_required(*CHAIR)
def propose(key: str):
    """Store the proposal by the chosen method (overrides kept)."""
    db, round_ = get_session(), _round(key)
    services.propose_and_save(session=db, round_=round_, method=_method(), actor=current_user())
    flash(_("已保存建议名单"), "info")
    return redirect(url_for("review.shortlist", key=key)), 303


@bp.post("/<key>/shortlist/entries/<int:entry_id>")
@on_refusal(_back_to_shortlist, page=_locked_page)
@role_required(*CHAIR)
def override(key: str, entry_id: int):
    """Move one entry in or out with a written reason."""
    db, round_ = get_session(), _round(key)
    ensure_writable(round_)
    stored = queries.get_shortlist(session=db, round_=round_)
    entry = next((e for e in queries.shortlist_entries(session=db, shortlist=stored) if e.id == entry_id),
                 None) if stored else None
    if entry is None:
        abort(404)
    operations.override_entry(session=db, round_=round_, entry=entry, include=request.form.get("included") == "1",
                              reason=request.form.get("reason", ""), actor=current_user())
    flash(_("已调整，理由已记录"), "info")
    return redirect(url_for("review.shortlist", key=key) + f"#entry-{entry_id}"), 303


@bp.post("/<key>/signoff")
@on_refusal(_back_to_shortlist, page=_locked_page)
@role_required(*CHAIR)
def sign_off(key: str):
    """The chair re-enters the password and seals the result."""
    db, round_ = get_session(), _round(key)
    version = services.sign_off_shortlist(session=db, round_=round_, signer=current_user(),
                           password=request.form.get("password", ""), dissent=request.form.get("dissent"))
    flash(_("已签署第 %(version)s 版，SHA-256：%(sha)s；审计锚点：%(anchor)s", version=version.version,
            sha=version.content_sha256, anchor=version.audit_anchor), "info")
    return redirect(url_for("review.shortlist", key=key)), 303


@bp.post("/<key>/reopen")
@on_refusal(_back_to_shortlist)
@role_required(Role.admin)
def reopen(key: str):
    """An admin re-opens a signed round with a reason."""
    db, round_ = get_session(), _round(key)
    operations.reopen(session=db, round_=round_, actor=current_user(), reason=request.form.get("reason", ""))
    flash(_("轮次已重新开启，原签署版本仍可查阅"), "info")
    return redirect(url_for("review.shortlist", key=key)), 303


def _abnormal_page(round_, *, refused: dict | None = None, status: int = 200):
    """The round's abnormal ratings; ``refused`` maps a flag to the refused waiver's reason and message."""
    db = get_session()
    rows = flags.flag_rows(session=db, round_=round_)  # active first, then the ones no longer abnormal
    return render_template("review/abnormal.html", round=round_, rows=rows, rule=load_abnormal_rule(),
                           abnormal=[r for r in rows if r.flag.active], refused=refused or {},
                           unexplained=set(flags.unexplained(session=db, round_=round_)),
                           method=DEFAULT_METHOD, methods=list(METHODS), default_method=DEFAULT_METHOD,
                           locked=signing_queries.round_is_locked(round_), tab="abnormal", show_method=False), status


@bp.get("/<key>/abnormal")
@role_required(*CHAIR)
def abnormal(key: str):
    """Every abnormal rating of the round with its explanation or waiver; what blocks sign-off."""
    return _abnormal_page(_round(key))


def _waiver_refused(refused, key: str, assignment_id: int):
    """A refused waiver: the list again, the reason typed kept and the refusal beside that flag."""
    if refused.status == 404:  # no such round: the error page, not the list
        return None
    return _abnormal_page(_round(key), refused={assignment_id: {"reason": request.form.get("reason", ""),
                                                                "message": refused.message}},
                          status=refused.status if 400 <= refused.status < 500 else 422)


@bp.post("/<key>/abnormal/<int:assignment_id>/waive")
@on_refusal(page=_waiver_refused)
@role_required(*CHAIR)
def waive(key: str, assignment_id: int):
    """The chair's written waiver of one flag; back to that flag on the list (its anchor), never to the top."""
    db, round_ = get_session(), _round(key)
    flag = flags.flag_of(session=db, assignment_id=assignment_id)
    if flag is None or flag.round_id != round_.id:
        abort(404)
    flags.waive(session=db, chair=current_user(), flag=flag, round_=round_, reason=request.form.get("reason", ""))
    return redirect(url_for("review.abnormal", key=key, _anchor=f"flag-{assignment_id}")), 303
