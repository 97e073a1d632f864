"""The word filter is one automaton shared by every thread of a web or worker process: scanned
from many threads at once it finds exactly what it finds one text at a time (issue #10.1)."""
from concurrent.futures import ThreadPoolExecutor

from moderation.seeds import seed_entries
from moderation.textfilter import TextFilter

TEXTS = ["来玩网络赌博吧", "ｆｕｃｋ ｙｏｕ", "來玩網絡賭博", "成人教育很重要", "f u c k", "今天天气不错",
         "加ｖｘ领红包", "Scunthorpe United", "CASINO bonus", "开心"]


def test_one_filter_scanned_from_many_threads_finds_what_it_finds_alone():
    text_filter = TextFilter(seed_entries())
    texts = TEXTS * 20
    alone = [text_filter.scan(text) for text in texts]
    assert any(alone) and not all(alone)  # the texts exercise both hits and clean passes

    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(text_filter.scan, texts))

    assert together == alone
