"""A small load run against the served app on SQLite: every job ends, none lost or doubled."""

from __future__ import annotations

from sqlmodel import func, select

from db.engine import make_engine, reading
from db.models import BriefingRecord, Job
from harness.fakes.wiring import fake_services_env
from harness.live_app import app_environment, serve_app
from harness.load_driver import drive

TOTAL = 100
CLIENTS = 20


def test_concurrent_submissions_all_reach_a_terminal_state(tmp_path, fake_site, fake_github, fake_anthropic):
    env = app_environment(tmp_path, {**fake_services_env(fake_site, fake_github, fake_anthropic), "PREP_WORKERS": "8"})
    app = serve_app(env, tmp_path)
    try:
        result = drive(app.url, fake_site.url, total=TOTAL, clients=CLIENTS, timeout_s=300)
    finally:
        app.stop()

    assert result.rejected == {}, result.summary()
    assert len(result.job_ids) == TOTAL and len(set(result.job_ids)) == TOTAL
    assert result.unfinished == [], result.summary()
    assert result.final == {"completed": TOTAL}, result.summary()
    assert "database is locked" not in app.log()
    assert "Traceback" not in app.log()
    engine = make_engine(env["DATABASE_URL"])
    with reading(engine) as session:
        assert session.exec(select(func.count()).select_from(Job)).one() == TOTAL
        briefings = session.exec(select(BriefingRecord.job_id)).all()
    assert sorted(briefings) == sorted(result.job_ids)  # one briefing per job, none lost, none doubled
    engine.dispose()
