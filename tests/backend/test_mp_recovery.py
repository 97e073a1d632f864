"""What a dead process left the Official Account owing is finished by whichever process starts
next, not only a web process: the embedded worker, a Celery worker, and every sweep. Each pass
is safe to repeat: a delivery goes out once."""
from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from backend.jobs import housekeeping
from backend.mpbot.models import Delivery, DeliveryState, Follower
from backend.mpbot.recovery import bot_recover
from tests.conftest import STACK

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bot(fake_wechat_mp, transactional_db):
    """The fake WeChat as the Official Account's platform, and no sender thread of this
    process's own: only the recovery under test sends."""
    from backend.mpbot.delivery import sender_stop

    sender_stop()
    yield fake_wechat_mp
    sender_stop()


def left_behind(*, claimed_long_ago: bool = False) -> tuple[Delivery, Follower]:
    """A late answer that a dead process did not send (or had claimed, then died), and a
    follower whose unsubscribe it could not finish."""
    tag = uuid.uuid4().hex[:12]
    user = get_user_model().objects.create_user(username=f"mp_o{tag}")
    follower = Follower.objects.create(openid=f"o{tag}", user=user, unionid_asked=True)
    if claimed_long_ago:
        delivery = Delivery.objects.create(
            follower=follower, text="你的头像生成失败了，请重试。", state=DeliveryState.SENDING,
            claimed_at=timezone.now() - timedelta(minutes=5), not_before=timezone.now())
    else:
        delivery = Delivery.objects.create(follower=follower, text="你的头像生成失败了，请重试。",
                                           not_before=timezone.now())
    gone_user = get_user_model().objects.create_user(username=f"mp_g{tag}")
    gone = Follower.objects.create(openid=f"g{tag}", user=gone_user,
                                   unsubscribed_at=timezone.now())
    return delivery, gone


def recovered(bot, delivery: Delivery, gone: Follower, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        delivery.refresh_from_db()
        done = not Follower.objects.filter(id=gone.id).exists()
        if (delivery.state == DeliveryState.SENT and done) or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    assert delivery.state == DeliveryState.SENT and delivery.how == "custom"
    assert not Follower.objects.filter(id=gone.id).exists()
    assert not get_user_model().objects.filter(id=gone.user_id).exists()
    mine = [m for m in bot.sent if m["touser"] == delivery.follower.openid]
    assert [m["text"]["content"] for m in mine] == [delivery.text]


def test_the_bots_recovery_is_registered_and_runs_once_per_delivery(bot):
    assert bot_recover in housekeeping.recoveries
    delivery, gone = left_behind(claimed_long_ago=True)
    housekeeping.recoveries_run()
    recovered(bot, delivery, gone, timeout=0)
    housekeeping.recoveries_run()  # again, as the next sweep or another worker would
    assert len(bot.sent) == 1


def test_passes_at_once_send_each_delivery_once(bot):
    rows = [left_behind() for _ in range(3)]
    threads = [housekeeping.recoveries_start() for _ in range(4)]
    for thread in threads:
        thread.join(timeout=60)
    for delivery, gone in rows:
        recovered(bot, delivery, gone, timeout=30)
    assert len(bot.sent) == 3


def test_nothing_is_sent_while_the_bot_is_off(bot, settings):
    delivery, gone = left_behind()
    settings.WECHAT_MP_TOKEN = ""
    housekeeping.recoveries_run()
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING and not bot.sent
    assert Follower.objects.filter(id=gone.id).exists()


def test_the_embedded_worker_recovers_at_start_and_with_every_sweep(bot, monkeypatch):
    from backend.jobs import runner, warmup
    from backend.jobs.management.commands import serve

    chores = {}
    monkeypatch.setattr(warmup, "warm_up_models", lambda: {})  # not what this test is about
    monkeypatch.setattr(runner, "start_scheduler", chores.update)  # no thread outliving it
    delivery, gone = left_behind()
    serve.start_embedded_worker()
    recovered(bot, delivery, gone)
    assert chores[housekeeping.recoveries_run] == serve.settings.SWEEP_INTERVAL_SECONDS


def test_celerys_schedule_runs_the_recoveries(bot, settings):
    from backend.jobs.tasks import recover_task

    [entry] = [e for e in settings.CELERY_BEAT_SCHEDULE.values()
               if e["task"] == recover_task.name]
    assert entry["schedule"] == settings.SWEEP_INTERVAL_SECONDS
    delivery, gone = left_behind()
    recover_task.apply()  # as beat's message would run it on a worker
    recovered(bot, delivery, gone, timeout=0)


@pytest.mark.services
@pytest.mark.skipif(STACK != "services", reason="needs Redis and a Celery worker")
@pytest.mark.parametrize("pool", ["prefork", "solo"])
def test_a_celery_worker_starting_alone_sends_what_was_left(bot, tmp_path, pool):
    """No web process and no beat: the worker's start alone finishes the work."""
    from tests.conftest import start_celery_worker, stop_process
    from tests.live import database_url

    delivery, gone = left_behind()
    env = {"WECHAT_API_BASE": bot.base_url, "WECHAT_MP_APPID": bot.mp_appid,
           "WECHAT_MP_SECRET": bot.mp_secret, "WECHAT_MP_TOKEN": bot.mp_token,
           "WECHAT_MP_ENCODING_AES_KEY": bot.mp_aes_key}
    log = tmp_path / "worker.log"
    worker = start_celery_worker(database_url(), log, concurrency=1, pool=pool, extra_env=env,
                                 queues=f"recovery-{uuid.uuid4().hex[:8]}")  # takes no jobs
    try:
        recovered(bot, delivery, gone, timeout=90)
    finally:
        stop_process(worker)
