"""Walking the public journey through the Flask test client, as a browser would."""

from __future__ import annotations

import base64
import json
import re
import zlib

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

ANSWERS = {
    "who": {"who": "victim"},
    "what": {"kinds": ["verbal_abuse", "threats"]},
    "why": {"strands": ["race", "religion"]},
    "when": {"day": "3", "month": "11", "year": "2026", "time_of_day": "evening", "still_happening": "no"},
    "where": {"where": "oxford", "area": "cowley", "place": "the bus stop on Hollow Way"},
    "account": {"narrative": "A man shouted abuse at me about my religion."},
    "people": {"continue": "1"},
    "evidence": {"continue": "1"},
    "sharing": {"consent_police": "yes", "consent_partners": "yes"},
    "situation": {"student": "no", "council_tenant": "no"},
    "contact": {"may_contact": "no"},
    "about": {},
}


def csrf(html: str) -> str:
    return CSRF.search(html).group(1)


SEND_TOKEN = re.compile(r'name="send_token" type="hidden" value="([^"]+)"')


def send_token(html: str) -> str:
    return SEND_TOKEN.search(html).group(1)


def post(client, path: str, data: dict, **kw):
    """GET the page, then POST to it with its CSRF token (and, from 'Check your
    answers', its one-time send token), as a browser would."""
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    hidden = {"csrf_token": csrf(page.text)}
    if SEND_TOKEN.search(page.text):
        hidden["send_token"] = send_token(page.text)
    return client.post(path, data={**data, **hidden}, **kw)


def cookie_payload(value: str) -> bytes:
    """What a Flask session cookie carries, decoded (it is signed, not encrypted)."""
    compressed = value.startswith(".")
    payload = value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return zlib.decompress(raw) if compressed else raw


def errors(html: str) -> list[str]:
    """The error messages shown beside fields."""
    return [
        re.sub(r"<[^>]+>|\s+", " ", m).replace("Error:", "").strip()
        for m in re.findall(r'class="govuk-error-message">(.*?)</p>', html, re.S)
    ]


def answer_until(client, step: str):
    """Answer every question before `step` with the usual answers."""
    steps = list(ANSWERS)
    for earlier in steps[: steps.index(step)]:
        post(client, f"/report/{earlier}", ANSWERS[earlier])


def answer_all(client, **overrides):
    """Answer every question; overrides replace a step's answers."""
    for step, data in ANSWERS.items():
        if step == "who" and overrides.get("who", data)["who"] == "centre_staff":
            post(client, "/report/centre-consent", {"person_consented": "yes"})  # centre staff are not asked 'who'
            continue
        response = post(client, f"/report/{step}", overrides.get(step, data))
        assert response.status_code == 302, (step, errors(response.text))


def answer_with_files(client, files: list[tuple[str, bytes]], **overrides):
    """Answer every question, uploading these evidence files (name, bytes) on the way."""
    import io

    answer_until(client, "evidence")
    for name, data in files:
        page = client.get("/report/evidence")
        uploaded = client.post(
            "/report/evidence",
            data={"csrf_token": csrf(page.text), "add": "1", "file": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
        )
        assert uploaded.status_code == 302, errors(uploaded.text)
    steps = list(ANSWERS)
    for step in steps[steps.index("evidence") :]:
        response = post(client, f"/report/{step}", overrides.get(step, ANSWERS[step]))
        assert response.status_code == 302, (step, errors(response.text))


def receipt_code(html: str) -> str | None:
    """The receipt code as the page shows it (groups of four, wrapping only between groups)."""
    found = re.search(r'id="receipt-code">(.*?)</p>', html, re.S)
    return found and re.sub(r"<[^>]+>|\s", "", found.group(1))


def submit(client):
    """Send the report from 'Check your answers' and follow on to the
    confirmation; returns (response, reference, receipt code)."""
    response = post(client, "/report/check", {}, follow_redirects=True)
    assert response.status_code == 200, response.status_code
    reference = re.search(r"<strong>(HC-[A-Z0-9-]+)</strong>", response.text)
    return response, reference and reference.group(1), receipt_code(response.text)


def opened_draft(client) -> dict:
    """The draft as only this browser can open it: with the key from its cookie."""
    from mantra.crypto import vault
    from mantra.extensions import db
    from mantra.models import Draft

    with client.session_transaction() as cookie_session:
        handle = cookie_session["draft"]
    row = db.session.get(Draft, handle["id"])
    db.session.refresh(row)
    key = base64.b64decode(handle["key"])
    return json.loads(vault.open_sealed(key, row.sealed_answers, table="draft", row_id=row.id, field="answers"))
