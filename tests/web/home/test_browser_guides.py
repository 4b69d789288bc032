"""The user guides' walkthroughs in headless Chromium: the expert on a tablet (1024×768 landscape
with touch, 768×1024 portrait), the chair at 1280×800. Every step asserts what the page shows;
with TUIYOU_SAVE_SCREENSHOTS=1 the pictures also go to docs/screenshots/guide/ (used by
docs/guide-expert.md and docs/guide-chair.md), reduced to a palette when large.
"""
from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import select

from helpers.signing import bearer
from helpers.rating import SECRETS, scoring_scene, tap, token, wait_saved
from helpers.review import CRITERIA, scored_round
from seed.names import EXPERTS, PLATFORMS, make_title
from testkit import PASSWORD, browser_log_in, require_tool
from web.core.models import Assignment, Round, RoundState, User
from web.rounds.operations import set_state

pytestmark = pytest.mark.browser
GUIDE = Path(__file__).resolve().parents[3] / "docs" / "screenshots" / "guide"
KEY = "2025Q3"
LANDSCAPE = {"width": 1024, "height": 768}
PORTRAIT = {"width": 768, "height": 1024}
DESK = {"width": 1280, "height": 800}
TITLES = ["山河人间", "逐梦正青春", "烟火往事", "守岛者"]


def _save(png: bytes, name: str, tmp_path: Path) -> None:
    """Keep the picture in the test's tmp dir; in docs/screenshots/guide/ when asked (palette if > 200 KB)."""
    (tmp_path / name).write_bytes(png)
    if os.environ.get("TUIYOU_SAVE_SCREENSHOTS") != "1":
        return
    if len(png) > 200_000:
        from PIL import Image

        out = io.BytesIO()
        Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=128).save(out, format="PNG", optimize=True)
        png = out.getvalue()
    GUIDE.mkdir(parents=True, exist_ok=True)
    (GUIDE / name).write_bytes(png)


def _log_in(browser, base: str, username: str, viewport: dict, *, touch: bool = True):
    context = browser.new_context(viewport=viewport, has_touch=touch, locale="zh-CN")
    page = context.new_page()
    browser_log_in(page, base, username)
    return page


def _no_sideways_scroll(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def _post(page, selector: str, *, tap: bool = False) -> None:
    """Press a form's submit button and wait for the page the server answers with."""
    with page.expect_navigation():
        (page.locator(selector).tap() if tap else page.click(selector))


def _flash(page) -> str:
    return " ".join(page.locator(".flash").all_inner_texts())


# ----------------------------------------------------------------------------------------- expert


def test_expert_guide_on_a_landscape_tablet(browser, live_server, client, session, make_user, tmp_path):
    """Log in, the list, the blind form, autosave, offline, 409, submit, recuse, own scale, progress."""
    scene = scoring_scene(session, make_user, works=4)
    for work, title in zip(scene.works, TITLES):
        work.title = title
        session.add(work)
    session.commit()
    base = live_server

    context = browser.new_context(viewport=LANDSCAPE, has_touch=True, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "zhang")
    assert page.locator("h1").inner_text() == "登录"
    _save(page.screenshot(), "expert-login.png", tmp_path)
    page.fill("input[name=password]", PASSWORD)
    page.locator("button[type=submit]").tap()
    page.wait_for_url(f"{base}/")
    links = page.locator("a[data-assignment-id]")
    assert links.count() == 4 and "已完成 0 / 4" in page.inner_text("main")

    # The blind form: criteria with rubric and weight, never the submitter's identity.
    order = [int(links.nth(i).get_attribute("data-assignment-id")) for i in range(4)]
    first, second, third = order[:3]
    page.goto(f"{base}/assignments/{first}")
    assert all(secret not in page.content() for secret in SECRETS)
    assert page.locator("[data-criterion]").count() == 4 and page.locator(".rubric").first.inner_text()
    for criterion, value in {"thought": "8.5", "artistry": "7", "production": "9", "innovation": "6.5"}.items():
        tap(page, criterion, value)
    wait_saved(page)
    assert page.locator("[data-save-state]").inner_text() == "已保存"
    page.evaluate("window.scrollTo(0, 0)")
    _save(page.screenshot(), "expert-form.png", tmp_path)

    # Confidence, highlight tags, comment: saved like the scores.
    page.locator('[data-confidence-value="1.0"]').tap()
    page.locator("[data-highlight]").nth(1).tap()
    page.locator("[data-highlight]").nth(4).tap()
    page.fill("[data-comment]", "叙事扎实，群像塑造鲜活；后半段节奏略拖。")
    page.locator("[data-confidence]").scroll_into_view_if_needed()
    wait_saved(page)
    assert page.locator('[data-confidence-value="1.0"]').get_attribute("aria-pressed") == "true"
    assert page.locator('[data-highlight][aria-pressed="true"]').count() == 2
    page.locator("[data-confidence]").evaluate("e => e.closest('fieldset').scrollIntoView()")
    _save(page.screenshot(), "expert-extras.png", tmp_path)

    # Offline: the changes wait on the device, the indicator counts them, they go when the network returns.
    page.wait_for_selector("#scoring[data-offline-ready=true]", timeout=10000)
    page.context.set_offline(True)
    tap(page, "thought", "9")
    tap(page, "innovation", "7")
    page.wait_for_selector('[data-save-state="offline"][data-pending="2"]', timeout=10000)
    page.evaluate("window.scrollTo(0, 0)")
    assert "2 项修改在本机等待同步" in page.locator("[data-save-state]").inner_text()
    _save(page.screenshot(), "expert-offline.png", tmp_path)
    page.context.set_offline(False)
    wait_saved(page, timeout=20000)
    session.expire_all()
    assert session.get(Assignment, first).version == int(page.locator("[data-version]").inner_text())

    # 409: another tablet saved in between; the expert chooses which values stay.
    version = int(page.locator("[data-version]").inner_text())
    other = client.put(f"/api/v1/assignments/{first}/scores", json={"scores": {"artistry": 5}, "version": version},
                       headers=token(client))
    assert other.status_code == 200, other.get_json()
    tap(page, "artistry", "8")
    page.wait_for_selector("[data-conflict]:not([hidden])", timeout=10000)
    conflict = page.locator("[data-conflict]")
    assert "8" in conflict.inner_text() and "5" in conflict.inner_text()
    conflict.scroll_into_view_if_needed()
    _save(page.screenshot(), "expert-conflict.png", tmp_path)
    page.locator('[data-resolve="mine"]').tap()
    wait_saved(page)

    # Submit: read-only from now on.
    page.locator('[data-action="submit"]').tap()
    page.wait_for_selector('#scoring[data-editable="false"]', timeout=10000)
    page.reload()
    assert "已提交，表单只读。" in page.inner_text("main")
    page.evaluate("window.scrollTo(0, 0)")
    _save(page.screenshot(), "expert-submitted.png", tmp_path)

    # Recusal with a reason.
    page.goto(f"{base}/assignments/{second}")
    page.locator('[data-action="recuse"]').tap()
    page.fill("[data-recuse-reason]", "本人曾任该作品出品方顾问")
    assert page.locator("[data-recuse-dialog]").is_visible()
    _save(page.screenshot(), "expert-recuse.png", tmp_path)
    page.locator("[data-recuse-confirm]").tap()
    page.wait_for_selector('#scoring[data-status="recused"]', timeout=10000)
    page.reload()
    assert "您已回避此作品：本人曾任该作品出品方顾问" in page.inner_text("main")

    # The own-scale aid on the next work: the expert's own earlier scores of the same category.
    page.goto(f"{base}/assignments/{third}")
    tap(page, "thought", "7")
    wait_saved(page)
    aid = page.locator("details.own-scale")
    aid.locator("summary").tap()
    titles = {a.id: w.title for a, w in zip(scene.mine, scene.works)}
    assert aid.locator("tbody tr").count() == 1
    assert aid.locator("tbody tr td").first.inner_text() == titles[first]
    aid.scroll_into_view_if_needed()
    _save(aid.screenshot(), "expert-own-scale.png", tmp_path)

    # Progress and filters on the list (recused works are not counted).
    page.goto(f"{base}/")
    assert "已完成 1 / 3" in page.inner_text("main")
    badges = page.locator(".task .badge").all_inner_texts()
    assert {"已提交", "已回避", "评分中", "未开始"} <= set(badges), badges
    _no_sideways_scroll(page)
    _save(page.screenshot(), "expert-list.png", tmp_path)
    page.select_option("select[name=status]", "submitted")
    page.wait_for_url("**status=submitted**")
    assert page.locator("a[data-assignment-id]").count() == 1
    context.close()

    # The same form held upright: finger-sized buttons, no sideways scrolling.
    page = _log_in(browser, base, "zhang", PORTRAIT)
    page.goto(f"{base}/assignments/{order[3]}")
    tap(page, "thought", "8")
    wait_saved(page)
    box = page.locator('[data-criterion="thought"] [data-value="7.5"]').bounding_box()
    assert box["height"] >= 44 and box["width"] >= 40
    _no_sideways_scroll(page)
    _save(page.screenshot(), "expert-form-portrait.png", tmp_path)
    page.context.close()


def test_expert_explains_an_abnormal_rating_in_portrait(browser, live_server, client, session, make_user, tmp_path):
    """The "explanation requested" item on the list and the written explanation under the form, 768×1024."""
    round_, works, _experts = scored_round(session, make_user, key=KEY, state=RoundState.scoring)
    works[0].title = "大河之歌"
    session.add(works[0])
    late = make_user("wang", role="expert", display_name="王建华")
    assignment = Assignment(round_id=round_.id, expert_id=late.id, work_id=works[0].id)
    session.add(assignment)
    session.commit()
    headers = bearer(client, "wang")
    assert client.put(f"/api/v1/assignments/{assignment.id}/scores", headers=headers,
                      json={"version": 0, "scores": {key: 4 for key in CRITERIA}}).status_code == 200
    assert client.post(f"/api/v1/assignments/{assignment.id}/submit", headers=headers).status_code == 200

    page = _log_in(browser, live_server, "wang", PORTRAIT)
    asked = page.locator(f'[data-explanation-requested="{assignment.id}"]')
    assert asked.is_visible() and "待说明的评分（1）" in page.inner_text("[data-explanations-requested]")
    assert "需说明" in page.inner_text(".tasks")
    _save(page.screenshot(), "expert-explain-list.png", tmp_path)
    asked.tap()
    page.wait_for_url(f"**/assignments/{assignment.id}**")
    box = page.locator(f'[data-explanation-request="{assignment.id}"]')
    assert "偏低" in box.inner_text() and "说明不会改变您的分数" in box.inner_text()
    page.fill("#explanation-text", "该片多处史实与公开资料不符，故思想性与制作各项打分偏低。")
    _post(page, "[data-explanation-form] button[type=submit]", tap=True)
    page.wait_for_selector("[data-explained]")
    assert "您的评分没有改变" in _flash(page)
    box.scroll_into_view_if_needed()
    _no_sideways_scroll(page)
    _save(page.screenshot(), "expert-explain.png", tmp_path)
    page.context.close()


def _plausible(session, works, experts) -> None:
    """Demo-like titles, producers, platforms and expert names instead of the fixtures' numbered ones."""
    rng, used = np.random.default_rng(7), set()
    for i, work in enumerate(works):
        work.title = make_title(rng, work.category, i, used)
        work.copyright_holder = f"{work.title[:2]}文化传媒有限公司"
        work.platform = PLATFORMS[i % len(PLATFORMS)]
        session.add(work)
    for expert, (name, *_rest) in zip(experts, EXPERTS):
        expert.display_name = name
        session.add(expert)
    session.commit()


def test_member_signs_with_a_dissent_in_portrait(browser, live_server, client, session, make_user, tmp_path):
    """The sealed result on the list, a wrong password refused, the signature with a dissent, 768×1024."""
    _round, works, experts = scored_round(session, make_user, key=KEY)
    _plausible(session, works, experts)
    make_user("chair1", role="chair", display_name="李组长")
    assert client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff", json={"password": PASSWORD},
                       headers=bearer(client, "chair1")).status_code == 201
    assert client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff", json={"password": PASSWORD},
                       headers=bearer(client, experts[1].username)).status_code == 201

    page = _log_in(browser, live_server, experts[0].username, PORTRAIT)
    assert "的评审结果已封存，请签署" in page.inner_text("main")
    page.locator(f'[data-sign-round="{KEY}"]').tap()
    page.fill("#sign-password", "wrong-password")
    _post(page, "[data-sign-form] button[type=submit]", tap=True)
    assert page.locator(f'[data-unsigned="{experts[0].id}"]').count() == 1 and _flash(page)
    page.fill("#sign-password", PASSWORD)
    page.fill("#sign-dissent", f"《{works[10].title}》与往季入选作品题材重复，建议替换。")
    _save(page.screenshot(), "expert-sign.png", tmp_path)
    _post(page, "[data-sign-form] button[type=submit]", tap=True)
    row = page.locator(f'[data-signed="{experts[0].id}"]')
    row.wait_for()
    assert "题材重复" in row.inner_text() and page.locator("[data-sign-form]").count() == 0
    _no_sideways_scroll(page)
    page.locator("table.signatures").scroll_into_view_if_needed()
    _save(page.screenshot(), "expert-signed.png", tmp_path)
    page.context.close()


# ------------------------------------------------------------------------------------------ chair


def _chair_round(client, session, make_user):
    """2025Q3 in review: three categories, plausible titles and names, two abnormal ratings (one explained)."""
    round_, works, experts = scored_round(session, make_user, key=KEY, state=RoundState.scoring, experts=8,
                                          works_per_category={"网络剧": 10, "网络纪录片": 8, "网络微短剧": 8})
    _plausible(session, works, experts)
    wild = []
    for username, name, work, value in (("wang", "王建华", works[1], 3), ("zhao", "赵雪梅", works[12], 10)):
        user = make_user(username, role="expert", display_name=name)
        assignment = Assignment(round_id=round_.id, expert_id=user.id, work_id=work.id)
        session.add(assignment)
        session.commit()
        headers = bearer(client, username)
        assert client.put(f"/api/v1/assignments/{assignment.id}/scores", headers=headers,
                          json={"version": 0, "scores": {key: value for key in CRITERIA}}).status_code == 200
        assert client.post(f"/api/v1/assignments/{assignment.id}/submit", headers=headers).status_code == 200
        wild.append(assignment.id)
    explained = client.post(f"/api/v1/assignments/{wild[0]}/explanation", headers=bearer(client, "wang"),
                            json={"text": "该片第5集起剧情明显注水，制作粗糙，故各项均打低分。"})
    assert explained.status_code == 201, explained.get_json()
    round_ = session.get(Round, round_.id)
    set_state(session=session, round_=round_, state="review", actor="t")
    session.commit()
    return round_, works, experts, wild


def _render_pdf_page(pdf: bytes, tmp_path: Path, stem: str) -> bytes:
    path = tmp_path / f"{stem}.pdf"
    path.write_bytes(pdf)
    subprocess.run([require_tool("pdftoppm"), "-png", "-r", "70", "-f", "1", "-l", "1", str(path),
                    str(tmp_path / stem)], check=True)
    return next(tmp_path.glob(f"{stem}*.png")).read_bytes()


def test_chair_guide_from_ranking_to_export(browser, live_server, client, session, make_user, tmp_path):
    """Rankings, drill-down, diagnostics, sensitivity, override, abnormal scores, sign-off, signatures,
    exports and the admin's re-opening, at 1280×800."""
    round_, works, experts, wild = _chair_round(client, session, make_user)
    make_user("chair1", role="chair", display_name="李组长")
    make_user("admin1", role="admin", display_name="系统管理员")
    base = live_server
    page = _log_in(browser, base, "chair1", DESK, touch=False)

    page.goto(f"{base}/review/{KEY}/rankings")
    assert page.locator("table.rankings tbody tr").count() == 26
    assert page.locator("select[name=method] option[selected]").inner_text().startswith("affine")
    _no_sideways_scroll(page)
    _save(page.screenshot(), "chair-rankings.png", tmp_path)
    page.locator('section[data-category="网络剧"] table.rankings').scroll_into_view_if_needed()
    _save(page.screenshot(), "chair-rankings-table.png", tmp_path)

    page.goto(f"{base}/review/{KEY}/works/{works[1].id}")
    drill = page.inner_text("table.drill")
    assert "王建华" in drill and "畸低" in drill
    _save(page.screenshot(), "chair-work.png", tmp_path)

    page.goto(f"{base}/review/{KEY}/diagnostics")
    assert "Krippendorff α" in page.inner_text("main") and page.locator("tr[data-expert-id]").count() == 10
    _save(page.screenshot(full_page=True), "chair-diagnostics.png", tmp_path)

    page.goto(f"{base}/review/{KEY}/sensitivity")
    assert page.locator("h2").first.inner_text() == "入选状态随方法变化的作品"
    _save(page.screenshot(), "chair-sensitivity.png", tmp_path)

    # Proposal saved, one work moved out with a written reason.
    page.goto(f"{base}/review/{KEY}/shortlist")
    _post(page, "form[action$='/shortlist'] button[type=submit]")
    assert "已保存建议名单" in _flash(page)
    row = page.locator('section[data-category="网络剧"] tr[data-included="true"]').last
    row.locator("summary").click()
    row.locator("textarea[name=reason]").fill("该剧已于2025年第二季度入选，本季不重复推荐。")
    with page.expect_navigation():
        row.locator("button[type=submit]").click()
    assert "已调整，理由已记录" in _flash(page)
    moved = page.locator("p.override").first
    assert "本季不重复推荐" in moved.inner_text()
    moved.evaluate("e => e.scrollIntoView({block: 'center'})")
    _save(page.screenshot(), "chair-override.png", tmp_path)

    # Sign-off is refused while an abnormal rating has neither explanation nor waiver.
    page.fill(".signoff input[name=password]", PASSWORD)
    _post(page, 'button[data-action="signoff"]')
    refused = _flash(page)
    assert page.locator('[data-shortlist-state="proposed"]').count() == 1
    assert "暂不能签署" in refused and str(wild[1]) in refused and str(wild[0]) not in refused
    _save(page.screenshot(), "chair-signoff-refused.png", tmp_path)

    page.goto(f"{base}/review/{KEY}/abnormal")
    assert page.locator("[data-unexplained]").get_attribute("data-unexplained") == str(wild[1])
    assert "剧情明显注水" in page.inner_text(f'[data-flag="{wild[0]}"]')
    page.fill(f'[data-flag="{wild[1]}"] input[name=reason]', "该专家为该类别资深评委，高分与其评语一致，予以豁免。")
    _save(page.screenshot(), "chair-abnormal.png", tmp_path)
    page.click(f'[data-flag="{wild[1]}"] button[type=submit]')
    page.wait_for_selector(f'[data-flag="{wild[1]}"] .waiver')
    assert "所有畸高/畸低评分都已说明或豁免。" in page.inner_text("main")

    page.goto(f"{base}/review/{KEY}/shortlist")
    page.fill(".signoff input[name=password]", PASSWORD)
    _post(page, 'button[data-action="signoff"]')
    assert page.locator('[data-shortlist-state="signed"]').count() == 1
    assert len(page.locator("[data-sha256]").inner_text().strip()) == 64
    _save(page.screenshot(), "chair-signed.png", tmp_path)

    # Members sign (one with a dissent); the chair reads the signing page.
    # (no SELECT DISTINCT over users: PostgreSQL cannot compare their JSON column)
    members = session.exec(select(User).where(User.id.in_(
        select(Assignment.expert_id).where(Assignment.round_id == round_.id))).order_by(User.id)).all()
    for n, member in enumerate(m for m in members if m.username not in ("wang",)):
        body = {"password": PASSWORD, "dissent": "建议将《" + works[8].title + "》调入，其创新性被低估。"} \
            if n == 0 else {"password": PASSWORD}
        assert client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff", json=body,
                           headers=bearer(client, member.username)).status_code == 201
    page.goto(f"{base}/panel/{KEY}/sign")
    assert page.locator("tr[data-signed]").count() == len(members)  # the chair and every member but one
    assert page.locator("tr[data-unsigned]").count() == 1 and page.locator("tr.dissent").count() == 1
    assert page.locator("[data-announcement]").count() == 3
    _save(page.screenshot(full_page=True), "chair-signatures.png", tmp_path)

    # Exports: the shortlist PDF and the announcement list, first pages rendered.
    shortlist_pdf = page.request.get(f"{base}/review/{KEY}/export.pdf")
    assert shortlist_pdf.status == 200 and shortlist_pdf.body().startswith(b"%PDF")
    _save(_render_pdf_page(shortlist_pdf.body(), tmp_path, "shortlist"), "chair-export-pdf.png", tmp_path)
    text = subprocess.run([require_tool("pdftotext"), str(tmp_path / "shortlist.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "其创新性被低估" in text
    announcement = page.request.get(f"{base}/review/{KEY}/announcement.pdf")
    assert announcement.status == 200
    (tmp_path / "announcement-text.pdf").write_bytes(announcement.body())
    listed = subprocess.run([require_tool("pdftotext"), str(tmp_path / "announcement-text.pdf"), "-"],
                            capture_output=True, text=True, check=True).stdout
    assert works[0].title in listed and works[0].copyright_holder in listed
    _save(_render_pdf_page(announcement.body(), tmp_path, "announcement"), "chair-announcement-pdf.png", tmp_path)
    page.context.close()

    # Only an admin re-opens, with a reason; the signed version stays readable.
    admin = _log_in(browser, base, "admin1", DESK, touch=False)
    admin.goto(f"{base}/review/{KEY}/shortlist")
    admin.fill("form[action$='/reopen'] textarea[name=reason]", "公示期收到实名异议，需复核《" + works[0].title + "》。")
    _post(admin, "form[action$='/reopen'] button[type=submit]")
    assert "轮次已重新开启" in _flash(admin)
    version = admin.locator('li[data-version="1"]')
    assert "公示期收到实名异议" in version.inner_text()
    version.scroll_into_view_if_needed()
    _save(admin.screenshot(), "chair-reopened.png", tmp_path)
    session.expire_all()
    assert session.get(Round, round_.id).state == RoundState.review
    admin.context.close()
