"""A question is declared once, in its form, and is stored because its page is a step."""

from __future__ import annotations

import json

from wtforms import SubmitField

from mantra.domain.intake import SEALED_GROUPS
from mantra.reporting.steps import STEPS, sealed_content


def test_every_question_on_every_page_is_stored_in_a_sealed_group(app):
    answers = {}
    questions = set()
    with app.test_request_context():
        forms = {step.slug: step.form(meta={"csrf": False}) for step in STEPS}
    for step in STEPS:
        form = forms[step.slug]
        names = [f.name for f in form if not isinstance(f, SubmitField) and f.name != "website"]
        if step.collection:
            answers[step.collection] = [{"marker": f"{step.slug}-entry"}]
            continue
        for name in names:
            if step.sealed is None:  # files: stored as sealed attachments, not answers
                continue
            answers[name] = f"{step.slug}-{name}"
            if name not in step.not_sealed:
                questions.add(name)
    stored = {}
    for who in ("victim", "centre_staff"):  # between them every step applies (the centre's own one too)
        content = sealed_content({**answers, "who": who})
        assert set(content) == set(SEALED_GROUPS)
        stored.update({name: value for group in content.values() for name, value in group.items()})
    answers["who"] = "centre_staff"
    assert questions and all(stored[name] == answers[name] for name in questions if name != "who")
    assert stored["who"] == "victim"
    assert stored["people"] == [{"marker": "people-entry"}]
    assert content["contact"]["name"] == "about-name" and "name" not in content["monitoring"]
    # The address for news is sealed to the notify key alone (intake), never with the report.
    assert "contact-news_email" not in json.dumps(content)


def test_the_413_page_states_the_limits_that_are_configured(client, app):
    app.config["MAX_CONTENT_LENGTH"] = 3 * 1024 * 1024
    response = client.post("/report/evidence", data={"file": "x" * (4 * 1024 * 1024)})
    assert response.status_code == 413
    assert "smaller than 10 MB" in response.text and "smaller than 3 MB" in response.text
