"""The lab's real site (lab.site, lab.traffic): what the guides' figures on it rest on."""

import threading
import time

import pytest

from lab.deploy import hold_lock
from lab.releases import example_module
from lab.site import Site
from lab.story import Story
from lab.traffic import DROPPED, ERROR, TIMEOUT, Load, Request, RunningTraffic, TrafficReport, in_flight_max

# The lab's servers, balancer and visitors: the same on every Django, so the first leg alone runs it.
pytestmark = pytest.mark.once

demo = example_module("lock-timeout-and-retries", "demonstration")
RATE = 100.0  # far under the capacity the guides measure (hundreds of requests/s): no request should be slow


def request(scheduled, ended, failure=None, group="busy") -> Request:
    return Request(scheduled, scheduled, ended, "look", group, None if failure else 200, failure)


def test_in_flight_counts_requests_that_overlap():
    assert in_flight_max([request(0, 1), request(0.5, 2), request(1.5, 3), request(2.5, 4)]) == 2
    assert in_flight_max([request(0, 1), request(1, 2)]) == 1  # one ends as the next arrives
    assert in_flight_max([]) == 0


def test_a_window_counts_each_failure_by_kind_and_times_failures_until_they_failed():
    report = TrafficReport(Load(10), [request(0, 0.010), request(1, 4, TIMEOUT), request(2, 2, DROPPED),
                                      request(3, 3.020, group="untouched")])
    busy = report.window("busy")
    assert (busy["requests"], busy["failed"], busy["timeout"], busy["dropped"]) == (3, 2, 1, 1)
    assert busy["max"] == 3000.0  # the visitor who gave up waited until then
    assert report.window("untouched")["failed"] == 0
    assert report.first_failure().scheduled == 1


@pytest.fixture
def site(embedded_postgresql_engine, real_site, new_database):
    database = new_database(embedded_postgresql_engine)
    demo.shop_tables(database, 1_000, Story(quiet=True))
    with Site(demo.RELEASE_1, database) as serving:
        yield serving


def test_the_site_serves_through_nginx_and_counts_every_request(site):
    traffic = RunningTraffic(site.address, Load(RATE))
    time.sleep(1.5)
    report = traffic.stop()
    assert {r.group for r in report.requests} == {"busy", "untouched"}
    assert report.window()["failed"] == 0, report.summary()
    # Poisson arrivals at 100/s for 1.5 s: about 150, never a handful nor thousands.
    assert 80 <= len(report.requests) <= 250, report.summary()


def replaced_with_writes_in_flight(site: Site, drained: bool) -> list[Request]:
    """Replace the first instance while writes queue in its workers behind a 1 s SHARE lock on the orders; drained
    as :meth:`Site.replace` does, or with the old instance killed as soon as nginx stops sending to it (a stop
    timeout too short for its requests). The requests lost: a reset connection or a 502, since nginx sends no POST
    to a second instance. A timeout or a 504 would say only that the machine was slow."""
    # Requests nginx gave up on are still queued in the instances after a replacement: let them drain first, or
    # the traffic's first request (the list of operations) can wait past the upstream timeout on a busy machine.
    site.balancer.recovered()
    traffic = RunningTraffic(site.address, Load(RATE))
    time.sleep(0.5)
    for old in site.instances[:1]:
        holder = threading.Thread(target=hold_lock, args=(site.database, demo.TABLE, "SHARE", 1.0))
        holder.start()
        time.sleep(0.3)  # writes to the orders now wait in every instance's workers
        if drained:
            site.replace(old, demo.RELEASE_1)
        else:
            site.instances.append(site.start(demo.RELEASE_1))
            site.instances.remove(old)
            reload = threading.Thread(target=site.balancer.route, args=(site.instances,))
            reload.start()
            time.sleep(0.1)  # nginx has reloaded; its old workers still wait on the old instance's answers
            old.kill()
            reload.join()
        holder.join()
    time.sleep(0.5)
    report = traffic.stop()
    return [r for r in report.requests if r.failure in (ERROR, DROPPED) or r.status in (502, 503)]


# Timed like the guides' measurements: beside a whole test run's workers, the visitors' own process can fall seconds
# behind its arrivals, and those it then cannot send are not the drain's doing.
@pytest.mark.measures
def test_a_rolling_replacement_drains_the_old_instance_and_loses_no_request(site):
    # A new instance of the same release replaces an old one, as a redeploy does; nginx reloads twice per step.
    old = site.instances[0]
    lost = replaced_with_writes_in_flight(site, drained=True)
    assert not lost, f"{len(lost)} lost, the first {lost[0]}"
    assert old not in site.instances and old.process.poll() is not None
    assert len(site.instances) == 2 and all(instance.process.poll() is None for instance in site.instances)
    # The contrast: the same replacement with the old instance killed before its requests were answered.
    assert replaced_with_writes_in_flight(site, drained=False), "killing the old instance lost no request"
