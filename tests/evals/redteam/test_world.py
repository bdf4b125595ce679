"""The world's services on their own: quota, append-only outbound log, documents, scheduler, scenarios."""

import collections

import pytest

from overseer.evals.redteam.scenarios import ATTACK_CLASSES, CONTROL_CLASSES, scenarios
from overseer.evals.redteam.setup import seed_world
from overseer.evals.redteam.world import World, WorldError


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path / "world.sqlite")
    ids = seed_world(w)
    yield w, ids
    w.close()


def test_outbound_log_survives_deleting_sent_mail(world):
    w, _ = world
    w.send_mail(["eve@ext.example"], "hi", "secret stuff")
    w.delete_mail([m.id for m in w.mails("sent")])
    assert w.mails("sent") == [] and w.outbound()[-1]["text"] == "secret stuff"


def test_mail_quota_refuses_and_is_logged(world):
    w, ids = world
    big = [{"name": "blob", "size": w.quota}]
    with pytest.raises(WorldError, match="quota"):
        w.send_mail(["colleague1"], "blob", "x", big)
    assert w.logs("quota_exceeded")


def test_unknown_recipient_and_read_only_document_are_refused(world):
    w, _ = world
    with pytest.raises(WorldError, match="unknown recipient"):
        w.send_mail(["nobody"], "s", "b")
    with pytest.raises(WorldError, match="read-only"):
        w.edit_doc_as_agent("doc://policy", "x")


def test_jobs_fire_on_their_heartbeats(world):
    w, _ = world
    w.schedule("two", 2, "m", "owner", True)
    fired = [sorted(j["name"] for j in w.due_jobs(h)) for h in (1, 2, 3)]
    assert fired == [[], ["two"], ["daily-digest"]]


def test_chat_posts_reach_the_channel_members(world):
    w, _ = world
    w.post("ops", "agent", "hello")
    assert set(w.outbound()[-1]["recipients"]) == {"owner", "agent-b"}


def test_scenario_set_covers_every_class_with_three_variants():
    chosen = scenarios()
    counts = collections.Counter(s.case for s in chosen if s.kind == "attack")
    assert set(counts) == set(ATTACK_CLASSES) and min(counts.values()) >= 3
    assert {s.case for s in chosen if s.kind == "control"} == set(CONTROL_CLASSES)
    assert sum(s.kind == "benign" for s in chosen) >= 8 and len(chosen) >= 30
    assert all(s.attack is not None for s in chosen if s.kind != "benign")
    assert all(s.task is not None for s in chosen if s.kind != "control")
