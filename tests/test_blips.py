"""Database blips: connections cut mid-job and a PostgreSQL "restart", through a TCP proxy."""

from __future__ import annotations

import time

from core.request import ResearchRequest
from core.status import JobStatus
from tests.tcp_proxy import TcpProxy

PG_ADDRESS = ("127.0.0.1", 5432)


def test_jobs_complete_when_the_database_connections_are_cut_mid_job(make_runner, postgres_url, fake_site, caplog):
    proxy = TcpProxy(PG_ADDRESS)
    url = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    runner = make_runner(DATABASE_URL=url, PREP_WORKERS="4")
    fake_site.latency_s = 0.3
    submitted = [
        runner.submit(ResearchRequest(company_name="Acme", company_url=fake_site.url, role=f"Role {n}"))[0]
        for n in range(8)
    ]
    try:
        for _ in range(3):
            time.sleep(0.4)
            proxy.cut()
        proxy.down.set()  # PostgreSQL "restarting": no connection for 8 s
        proxy.cut()
        time.sleep(8)
        proxy.down.clear()
        finals = [runner.wait(job.id, timeout_s=60) for job in submitted]
        runner.shutdown()  # while the proxy still forwards: it releases and unregisters through it
    finally:
        proxy.close()

    assert [job.status for job in finals] == [JobStatus.COMPLETED] * 8, [job.error_message for job in finals]
    assert "database blip" in caplog.text
