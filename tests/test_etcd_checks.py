"""The etcd area beyond its pass/fail fixtures: freshness edges, unreadable sources, parsing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from checks.etcd import (
    EtcdSettings,
    etcd_auth_problems,
    etcd_server_words,
    etcd_version_verdict,
    format_age,
    image_tag_version,
    last_flag_value,
    parse_timestamp,
    runs_etcdctl_snapshot_save,
)
from checks.podspec import command_tokens
from k8saudit.engine import run_check
from k8saudit.inventory import FORBIDDEN, Coverage
from k8saudit.model import Status, Subject
from k8saudit.registry import Config, Context, load_checks
from tests import factories as f
from tests.check_fixtures.etcd import (
    KUBEADM_ETCD_FLAGS,
    OPENSHIFT_ETCD_FLAGS,
    etcd_backup_cronjob,
    k3s_cluster,
    k3s_snapshot,
    kops_etcd_manager_pod,
    kubeadm_control_plane,
    openshift_control_plane,
    openshift_etcd_pod,
    velero_backup,
    velero_schedule,
)

CHECKS = load_checks()
NOW = datetime.fromisoformat("2026-11-20T08:00:00+00:00")


def run(check_id: str, inventory, now: datetime = NOW, config: Config | None = None):
    ctx = Context.default(now)
    if config is not None:
        ctx = replace(ctx, config=config)
    return run_check(CHECKS[check_id], inventory, ctx)


def statuses(findings) -> list[Status]:
    return [finding.status for finding in findings]


# -- backup freshness -----------------------------------------------------------------------------


def cronjob_cluster(last_successful: str):
    return f.make_inventory(
        **kubeadm_control_plane(), cronjobs=[etcd_backup_cronjob(last_successful=last_successful)], jobs=[]
    )


@pytest.mark.parametrize(
    ("last_success", "status"),
    [
        ("2026-11-19T08:00:00Z", Status.PASS),  # exactly at the 24 h limit
        ("2026-11-19T07:59:59Z", Status.FAIL),  # one second over
        ("2026-11-20T09:00:00Z", Status.PASS),  # clock skew: in the future is not stale
    ],
)
def test_freshness_edges(last_success: str, status: Status) -> None:
    assert statuses(run("ETCD-005", cronjob_cluster(last_success))) == [status]


def test_freshness_limit_is_configurable() -> None:
    inventory = cronjob_cluster("2026-11-18T08:00:00Z")  # 48 h old
    assert statuses(run("ETCD-005", inventory)) == [Status.FAIL]
    relaxed = Config(backup_max_age_hours=72)
    assert statuses(run("ETCD-005", inventory, config=relaxed)) == [Status.PASS]


@pytest.mark.parametrize("hours", [1e300, float("inf"), float("nan")])
def test_a_limit_longer_than_a_timedelta_is_no_limit_not_a_check_error(hours: float) -> None:
    """The policy file refuses such limits; a Config built in code must not crash the checks."""
    unlimited = Config(backup_max_age_hours=hours)
    inventory = cronjob_cluster("2020-01-01T00:00:00Z")
    assert statuses(run("ETCD-005", inventory, config=unlimited)) == [Status.PASS]
    k3s = k3s_cluster(
        k3s__etcdsnapshotfiles=[k3s_snapshot("etcd-snapshot-s-1", "s", "2020-01-01T00:00:00Z")],
        cronjobs=[],
        jobs=[],
    )
    for check_id in ("ETCD-001", "ETCD-004"):
        assert statuses(run(check_id, k3s, config=unlimited)) == [Status.PASS], check_id


def test_etcd_manager_is_evidence_but_its_freshness_is_unknown() -> None:
    inventory = f.make_inventory(
        nodes=[f.node("ip-10-0-1-10", control_plane=True)], pods=[kops_etcd_manager_pod()]
    )
    [mechanism] = run("ETCD-001", inventory)
    assert mechanism.status is Status.PASS
    assert "s3://shop-kops-state/shop-prod/backups/etcd/main" in mechanism.message
    [freshness] = run("ETCD-005", inventory)
    assert freshness.status is Status.UNKNOWN
    assert "etcd-manager-ctl list-backups" in freshness.message


def test_a_forbidden_source_is_unknown_never_no_backups() -> None:
    inventory = f.make_inventory(
        **kubeadm_control_plane(),
        cronjobs=[],
        jobs=[],
        coverage={"velero.schedules": FORBIDDEN, "velero.backups": FORBIDDEN},
    )
    [finding] = run("ETCD-001", inventory)
    assert finding.status is Status.UNKNOWN
    assert "Velero" in finding.message
    [fresh] = run("ETCD-005", inventory)
    assert fresh.status is Status.UNKNOWN
    [schedules] = run("ETCD-002", inventory)
    assert schedules.status is Status.UNKNOWN


def test_forbidden_source_does_not_hide_another_active_one() -> None:
    inventory = f.make_inventory(
        **kubeadm_control_plane(),
        cronjobs=[etcd_backup_cronjob()],
        jobs=[],
        coverage={"velero.schedules": FORBIDDEN, "velero.backups": FORBIDDEN},
    )
    assert statuses(run("ETCD-001", inventory)) == [Status.PASS]
    assert statuses(run("ETCD-005", inventory)) == [Status.PASS]


def test_managed_control_planes_are_not_applicable() -> None:
    inventory = f.make_inventory(version="v1.29.3-eks-adc7111", cronjobs=[], jobs=[], pods=[])
    for check_id in ("ETCD-001", "ETCD-005", "ETCD-006", "ETCD-007"):
        [finding] = run(check_id, inventory)
        assert finding.status is Status.NOT_APPLICABLE, check_id
        assert "EKS" in finding.message


def test_paused_schedules_alone_are_not_an_active_mechanism() -> None:
    inventory = f.make_inventory(
        **kubeadm_control_plane(),
        cronjobs=[],
        jobs=[],
        velero__schedules=[velero_schedule(paused=True)],
        velero__backups=[],
    )
    [finding] = run("ETCD-001", inventory)
    assert finding.status is Status.FAIL
    assert "paused" in finding.message


def test_unknown_provider_failure_says_so() -> None:
    inventory = f.make_inventory(cronjobs=[], jobs=[], pods=[])
    [finding] = run("ETCD-001", inventory)
    assert finding.status is Status.FAIL
    assert "provider was not recognised" in finding.message


@pytest.mark.parametrize(
    ("snapshot", "phrase"),
    [
        # a one-off snapshot is no schedule, however fresh (as a one-off etcdctl Job)
        (k3s_snapshot("on-demand-server-1-1763614800", "server-1", "2026-11-20T05:00:00Z"), "on-demand"),
        (k3s_snapshot("on-demand-server-1-1727000000", "server-1", "2025-09-22T10:00:00Z"), "on-demand"),
        (k3s_snapshot("etcd-snapshot-server-1-1762776000", "server-1", "2026-11-10T12:00:00Z"), "9d 20h old"),
        (
            k3s_snapshot(
                "etcd-snapshot-server-1-1727000000", "server-1", "2025-09-22T10:00:00Z", error="disk full"
            ),
            "no scheduled k3s/RKE2 snapshot was attempted in the last 1d",
        ),
    ],
)
def test_old_or_one_off_k3s_snapshots_are_no_active_mechanism(snapshot, phrase: str) -> None:
    [finding] = run("ETCD-001", k3s_cluster(k3s__etcdsnapshotfiles=[snapshot], cronjobs=[], jobs=[]))
    assert finding.status is Status.FAIL
    assert "nothing produces new backups" in finding.message and phrase in finding.message


def test_a_recent_scheduled_k3s_snapshot_shows_the_schedule_runs() -> None:
    taken = k3s_snapshot("etcd-snapshot-server-1-1763596800", "server-1", "2026-11-20T00:00:00Z")
    # A failed attempt still shows the schedule runs; ETCD-004 reports the failure.
    failed_attempt = k3s_snapshot(
        "etcd-snapshot-server-2-1763596800", "server-2", "2026-11-20T00:00:00Z", error="disk full"
    )
    for snapshot in (taken, failed_attempt):
        [finding] = run("ETCD-001", k3s_cluster(k3s__etcdsnapshotfiles=[snapshot], cronjobs=[], jobs=[]))
        assert finding.status is Status.PASS
        assert "k3s/RKE2 snapshot schedule ran in the last 1d" in finding.message


# -- Velero schedules -----------------------------------------------------------------------------


def velero_inventory(*backups, schedule=None):
    return f.make_inventory(
        velero__schedules=[schedule or velero_schedule(last_backup="2026-11-20T02:00:00Z")],
        velero__backups=list(backups),
    )


def test_velero_last_backup_failed() -> None:
    inventory = velero_inventory(
        velero_backup("b1", "cluster-daily", "Completed", "2026-11-19T02:00:00Z", "2026-11-19T02:04:00Z"),
        velero_backup("b2", "cluster-daily", "Failed", "2026-11-20T02:00:00Z", "2026-11-20T02:00:05Z"),
    )
    [finding] = run("ETCD-002", inventory)
    assert finding.status is Status.FAIL
    assert "BackupStorageLocation default not found" in finding.message


def test_velero_partially_failed_is_a_warning() -> None:
    inventory = velero_inventory(
        velero_backup(
            "b2", "cluster-daily", "PartiallyFailed", "2026-11-20T02:00:00Z", "2026-11-20T02:06:00Z"
        ),
        velero_backup("b1", "cluster-daily", "Completed", "2026-11-19T20:00:00Z", "2026-11-19T20:04:00Z"),
    )
    assert statuses(run("ETCD-002", inventory)) == [Status.WARN]


def test_velero_overdue_and_new_schedules() -> None:
    overdue = velero_inventory(
        velero_backup("b1", "cluster-daily", "Completed", "2026-11-18T02:00:00Z", "2026-11-18T02:04:00Z")
    )
    [finding] = run("ETCD-002", overdue)
    assert finding.status is Status.FAIL and "backups have stopped" in finding.message
    new = f.custom_resource(
        "Schedule", "fresh", "velero", spec={"schedule": "0 2 * * *"}, status={"phase": "Enabled"}
    )
    new["metadata"]["creationTimestamp"] = "2026-11-20T06:00:00Z"
    assert statuses(run("ETCD-002", velero_inventory(schedule=new))) == [Status.PASS]


def test_velero_backups_unreadable_falls_back_to_last_backup() -> None:
    inventory = f.make_inventory(
        velero__schedules=[velero_schedule(last_backup="2026-11-20T02:00:00Z")],
        velero__backups=[],
        coverage={"velero.backups": Coverage(FORBIDDEN, message="forbidden")},
    )
    [finding] = run("ETCD-002", inventory)
    assert finding.status is Status.PASS
    assert finding.evidence["backups"].startswith("not readable")


def test_velero_not_installed_is_not_applicable() -> None:
    [finding] = run("ETCD-002", f.make_inventory())
    assert finding.status is Status.NOT_APPLICABLE


def weekday_backups(last_success: str, time_zone: str | None = None):
    """A Velero Schedule and an etcdctl CronJob firing at 02:00 on weekdays, last successful at
    `last_success`."""
    cronjob = etcd_backup_cronjob(last_successful=last_success)
    cronjob["spec"]["schedule"] = "0 2 * * 1-5"
    if time_zone:
        cronjob["spec"]["timeZone"] = time_zone
    schedule = velero_schedule()
    schedule["spec"]["schedule"] = "0 2 * * 1-5" if not time_zone else f"CRON_TZ={time_zone} 0 2 * * 1-5"
    backup = velero_backup("cluster-daily-1", "cluster-daily", "Completed", last_success, last_success)
    return f.make_inventory(
        cronjobs=[cronjob], jobs=[], velero__schedules=[schedule], velero__backups=[backup]
    )


@pytest.mark.parametrize("check_id", ["ETCD-002", "ETCD-003"])
def test_a_weekday_schedule_is_not_overdue_over_the_weekend(check_id: str) -> None:
    friday_run = weekday_backups("2026-11-20T02:05:00Z")
    before_monday_run = datetime.fromisoformat("2026-11-23T01:30:00+00:00")
    assert statuses(run(check_id, friday_run, now=before_monday_run)) == [Status.PASS]
    # Monday's 02:00 run is past its grace (half the shortest interval, 12 h) and did not succeed.
    [late] = run(check_id, friday_run, now=datetime.fromisoformat("2026-11-23T14:01:00+00:00"))
    assert late.status is Status.FAIL
    assert "the run due 2026-11-23 02:00 UTC" in late.message and "have stopped" in late.message


@pytest.mark.parametrize("check_id", ["ETCD-002", "ETCD-003"])
def test_the_schedule_is_read_in_its_time_zone(check_id: str) -> None:
    # 02:00 in Tokyo on weekdays is 17:00 UTC Sunday to Thursday: nothing is due on Friday UTC.
    thursday_run = weekday_backups("2026-11-19T17:05:00Z", time_zone="Asia/Tokyo")
    saturday = datetime.fromisoformat("2026-11-21T14:00:00+00:00")
    assert statuses(run(check_id, thursday_run, now=saturday)) == [Status.PASS]
    [late] = run(check_id, thursday_run, now=datetime.fromisoformat("2026-11-23T06:00:00+00:00"))
    assert late.status is Status.FAIL and "the run due 2026-11-22 17:00 UTC" in late.message


# -- etcdctl jobs ---------------------------------------------------------------------------------


def test_etcdctl_detection_in_scripts_and_args() -> None:
    assert runs_etcdctl_snapshot_save(command_tokens({"command": ["etcdctl", "snapshot", "save", "/b/s.db"]}))
    assert runs_etcdctl_snapshot_save(
        command_tokens(
            {"command": ["/bin/sh", "-c"], "args": ["set -e; /usr/local/bin/etcdctl snapshot save x.db"]}
        )
    )
    assert not runs_etcdctl_snapshot_save(
        command_tokens({"command": ["etcdctl", "snapshot", "status", "x.db"]})
    )
    assert not runs_etcdctl_snapshot_save(command_tokens({"command": ["sh", "-c", "echo snapshot save"]}))
    continued = {"command": ["sh", "-c", "etcdctl \\\n  --endpoints=https://e:2379 \\\n  snapshot save x.db"]}
    assert command_tokens(continued)[2:5] == ["etcdctl", "--endpoints=https://e:2379", "snapshot"]
    assert command_tokens({"command": ["sh", "-c", "echo 'unbalanced"]}) == [
        "sh",
        "-c",
        "echo",
        "'unbalanced",
    ]


def test_failed_newest_run_and_one_off_jobs() -> None:
    cronjob = etcd_backup_cronjob()
    failed_run = f.job(
        "etcd-backup-29123456",
        "kube-system",
        owner=cronjob,
        status={
            "failed": 1,
            "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}],
        },
    )
    failed_run["metadata"]["creationTimestamp"] = "2026-11-20T06:00:00Z"
    one_off = f.job(
        "manual-snapshot",
        "kube-system",
        containers=[
            f.container("s", "registry.k8s.io/etcd:3.5.16-0", command=["etcdctl", "snapshot", "save", "/b"])
        ],
    )
    findings = run("ETCD-003", f.make_inventory(cronjobs=[cronjob], jobs=[failed_run, one_off]))
    by_name = {finding.subject.name: finding for finding in findings}
    assert by_name["etcd-backup"].status is Status.FAIL and "failed" in by_name["etcd-backup"].message
    assert by_name["manual-snapshot"].status is Status.WARN


# -- etcd members ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "version"),
    [
        ("registry.k8s.io/etcd:3.5.9-0", (3, 5, 9)),
        ("quay.io/coreos/etcd:v3.4.13", (3, 4, 13)),
        ("localhost:5000/etcd:v3.5.16", (3, 5, 16)),
        ("registry.k8s.io/etcd@sha256:" + "a" * 64, None),
        ("registry.k8s.io/etcd:latest", None),
        ("etcd", None),
    ],
)
def test_image_tag_version(image: str, version) -> None:
    assert image_tag_version(image) == version


@pytest.mark.parametrize(
    ("version", "today", "status", "phrase"),
    [
        ((3, 5, 1), date(2026, 1, 1), "fail", "3.5.3"),
        ((3, 5, 4), date(2026, 1, 1), "fail", "fixed in 3.5.6"),
        ((3, 5, 6), date(2026, 1, 1), "pass", "no known data-safety bug"),
        ((3, 4, 5), date(2020, 1, 1), "fail", "authentication"),
        ((3, 4, 21), date(2024, 1, 1), "fail", "3.4.22"),
        ((3, 4, 30), date(2024, 1, 1), "pass", "supported"),
        ((3, 4, 30), date(2025, 8, 1), "warn", "only gets critical fixes"),
        ((3, 4, 30), date(2026, 11, 20), "fail", "end of life"),
        ((3, 3, 27), date(2024, 1, 1), "fail", "end of life"),
        ((3, 6, 5), date(2026, 11, 20), "pass", "supported"),
    ],
)
def test_etcd_version_verdicts(version, today, status, phrase) -> None:
    verdict, message, _ = etcd_version_verdict(version, today)
    assert verdict == status
    assert phrase in message


def test_etcd_manager_version_is_unknown_with_bundled_versions() -> None:
    inventory = f.make_inventory(
        nodes=[f.node("ip-10-0-1-10", control_plane=True)], pods=[kops_etcd_manager_pod()]
    )
    [finding] = run("ETCD-006", inventory)
    assert finding.status is Status.UNKNOWN
    assert finding.evidence["bundled_versions"] == ["3.4.13", "3.5.9"]
    [auth] = run("ETCD-007", inventory)
    assert auth.status is Status.NOT_APPLICABLE


def test_no_etcd_pod_visible() -> None:
    [finding] = run("ETCD-006", f.make_inventory(pods=[]))
    assert finding.status is Status.UNKNOWN and finding.subject == Subject.cluster()
    [k3s] = run("ETCD-006", f.make_inventory(version="v1.29.3+k3s1", pods=[]))
    assert k3s.status is Status.NOT_APPLICABLE


def test_openshift_etcd_started_by_a_script_is_a_member() -> None:
    inventory = openshift_control_plane()
    [version] = run("ETCD-006", inventory)
    assert version.status is Status.UNKNOWN
    assert version.subject == Subject("Pod", "openshift-etcd", "etcd-master-0")
    assert "version not known from the image" in version.message
    # Variables in https URLs leave their hosts unknown, but TLS and certificates are required anyway.
    [auth] = run("ETCD-007", inventory)
    assert auth.status is Status.PASS, auth.message
    assert auth.subject == version.subject


def test_etcd_flags_are_read_from_the_script_up_to_the_next_command() -> None:
    etcd, metrics = openshift_etcd_pod()["spec"]["containers"][1:]
    words = etcd_server_words(etcd)
    assert words[0] == "etcd" and words[-1] == "--listen-metrics-urls=https://${LISTEN_ON_ALL_IPS}:9978"
    assert last_flag_value(words, "client-cert-auth") == "true"
    assert not any(word.startswith("--cacert") for word in words)  # discover-etcd-initial-cluster's
    assert etcd_server_words(metrics) is None  # `etcd grpc-proxy start` is a proxy, not a member


@pytest.mark.parametrize(
    ("flags", "phrase"),
    [
        (
            OPENSHIFT_ETCD_FLAGS.replace(
                "--client-cert-auth=true", "--client-cert-auth=${CLIENT_AUTH}"
            ).replace("--trusted-ca-file=", "--unused="),
            "--client-cert-auth=${CLIENT_AUTH} is built from a variable",
        ),
        (
            OPENSHIFT_ETCD_FLAGS.replace(
                "https://${LISTEN_ON_ALL_IPS}:2379", "http://${LISTEN_ON_ALL_IPS}:2379"
            ),
            "--listen-client-urls=http://${LISTEN_ON_ALL_IPS}:2379 is built from a variable",
        ),
        (
            OPENSHIFT_ETCD_FLAGS.replace("--peer-client-cert-auth=true", "").replace(
                "--peer-trusted-ca-file=", "--unused="
            ),
            "--listen-peer-urls=https://${LISTEN_ON_ALL_IPS}:2380 is built from a variable",
        ),
    ],
    ids=["client-cert-auth", "plain-http-host", "peer-url-host"],
)
def test_flag_values_from_shell_variables_are_unknown(flags: str, phrase: str) -> None:
    [finding] = run("ETCD-007", openshift_control_plane(etcd_flags=flags))
    assert finding.status is Status.UNKNOWN
    assert phrase in finding.message


def test_etcd_variables_set_by_the_script_are_unknown() -> None:
    insecure = OPENSHIFT_ETCD_FLAGS.replace("--client-cert-auth=true", "").replace(
        "--trusted-ca-file=", "--unused="
    )
    inventory = openshift_control_plane(etcd_flags=insecure)
    [fails] = run("ETCD-007", inventory)
    assert fails.status is Status.FAIL and "does not require client certificates" in fails.message
    etcd = inventory.items("pods")[0]["spec"]["containers"][1]
    etcd["command"][2] = etcd["command"][2].replace(
        "export ETCD_INITIAL_CLUSTER", "export ETCD_CLIENT_CERT_AUTH=true"
    )
    [finding] = run("ETCD-007", inventory)
    assert finding.status is Status.UNKNOWN and "$ETCD_CLIENT_CERT_AUTH" in finding.message


def test_last_flag_value() -> None:
    tokens = ["etcd", "--name", "cp-1", "--client-cert-auth", "--data-dir=/a", "--data-dir=/var/lib/etcd"]
    assert last_flag_value(tokens, "name") == "cp-1"
    assert last_flag_value(tokens, "data-dir") == "/var/lib/etcd"
    assert last_flag_value(tokens, "client-cert-auth") is None
    assert last_flag_value(tokens, "missing") is None


def test_kubeadm_flags_have_no_problem() -> None:
    assert etcd_auth_problems(EtcdSettings(list(KUBEADM_ETCD_FLAGS), set())) == ([], [])


@pytest.mark.parametrize(
    ("change", "phrase"),
    [
        (
            lambda w: [x for x in w if not x.startswith(("--client-cert-auth", "--trusted-ca-file"))],
            "does not require client certificates",
        ),
        (lambda w: [x for x in w if not x.startswith("--trusted-ca-file")], "names no --trusted-ca-file"),
        (
            lambda w: [*w, "--listen-client-urls=http://0.0.0.0:2379"],
            "plain HTTP on http://0.0.0.0:2379",
        ),
        (lambda w: [*w, "--auto-tls=true"], "--auto-tls"),
        (
            lambda w: [
                x for x in w if not x.startswith(("--peer-client-cert-auth", "--peer-trusted-ca-file"))
            ],
            "does not require peer certificates",
        ),
    ],
)
def test_etcd_auth_problems(change, phrase) -> None:
    problems, _ = etcd_auth_problems(EtcdSettings(change(list(KUBEADM_ETCD_FLAGS)), set()))
    assert any(phrase in p for p in problems), problems


def test_a_trusted_ca_file_requires_certificates_whatever_cert_auth_says() -> None:
    # etcd's TLSInfo.ServerConfig: `TrustedCAFile != "" || ClientCertAuth` -> RequireAndVerifyClientCert.
    explicit_false = [
        w.replace("cert-auth=true", "cert-auth=false") if w.endswith("cert-auth=true") else w
        for w in KUBEADM_ETCD_FLAGS
    ]
    assert "--client-cert-auth=false" in explicit_false and "--peer-client-cert-auth=false" in explicit_false
    assert etcd_auth_problems(EtcdSettings(explicit_false, set())) == ([], [])
    unset = [w for w in KUBEADM_ETCD_FLAGS if "cert-auth" not in w]
    [finding] = run("ETCD-007", f.make_inventory(**kubeadm_control_plane(etcd_command=unset)))
    assert finding.status is Status.PASS


def test_a_trusted_ca_file_from_the_environment_is_unknown() -> None:
    tokens = [w for w in KUBEADM_ETCD_FLAGS if not w.startswith(("--client-cert-auth", "--trusted-ca-file"))]
    problems, unknowns = etcd_auth_problems(EtcdSettings(tokens, {"ETCD_TRUSTED_CA_FILE"}))
    assert problems == [] and unknowns == [
        "--trusted-ca-file is set through $ETCD_TRUSTED_CA_FILE, whose value is not kept"
    ]


def test_single_member_on_loopback_needs_no_peer_auth() -> None:
    tokens = ["etcd", "--client-cert-auth=true", "--trusted-ca-file=/ca.crt"]
    assert etcd_auth_problems(EtcdSettings(tokens, set())) == ([], [])


def test_settings_from_the_environment_or_a_file_are_unknown() -> None:
    tokens = [w for w in KUBEADM_ETCD_FLAGS if not w.startswith(("--client-cert-auth", "--trusted-ca-file"))]
    problems, unknowns = etcd_auth_problems(EtcdSettings(tokens, {"ETCD_CLIENT_CERT_AUTH"}))
    assert problems == [] and "ETCD_CLIENT_CERT_AUTH" in unknowns[0]
    kept = EtcdSettings(tokens, {"ETCD_CLIENT_CERT_AUTH"}, {"ETCD_CLIENT_CERT_AUTH": "false"})
    [problem] = etcd_auth_problems(kept)[0]
    assert problem.startswith("does not require client certificates")
    config_file = f.make_inventory(
        **kubeadm_control_plane(
            etcd_command=["etcd", "--config-file=/var/lib/rancher/rke2/server/db/etcd/config"]
        )
    )
    [finding] = run("ETCD-007", config_file)
    assert finding.status is Status.UNKNOWN and "config" in finding.message


# -- helpers --------------------------------------------------------------------------------------


def test_timestamps_and_ages() -> None:
    assert parse_timestamp("2026-11-20T08:00:00Z") == NOW
    assert parse_timestamp("yesterday") is None
    assert parse_timestamp(None) is None
    assert format_age(timedelta(days=9, hours=3)) == "9d 3h"
    assert format_age(timedelta(hours=2, minutes=5)) == "2h 5m"
    assert format_age(timedelta(seconds=-30)) == "just now"
