"""Bad input: every file comes out as a row that says what is wrong, and the batch goes on."""
import os
import time
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from replyparse.run.batch import process_file
from replyparse.pipeline import parse_text
from replyparse.run.walk import iter_paths

GOOD = "关于第十届人大三次会议第12号建议的答复\n王某代表：\n您提出的《关于修缮老街排水沟的建议》收悉，现答复如下：\n已安排资金进行维修。\n城关镇建设办\n2021年6月1日\n"


def test_broken_text_files_get_rows_and_the_batch_goes_on(tmp_path, real_dir, manifest_rows):
    (tmp_path / "a_good.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b_empty.txt").write_bytes(b"")
    (tmp_path / "c_blank.txt").write_bytes(b"   \n\n  ")
    (tmp_path / "d_binary.txt").write_bytes(bytes(range(32)) * 200)
    (tmp_path / "e_mojibake.txt").write_text(GOOD.encode("utf-8").decode("gb18030", errors="replace") * 3,
                                             encoding="utf-8")
    (tmp_path / "f_news.txt").write_text((real_dir / "a008.txt").read_text("utf-8"), encoding="utf-8")
    (tmp_path / "g_good_gbk.txt").write_bytes(GOOD.encode("gbk"))
    r = manifest_rows(tmp_path)
    assert len(r) == 7
    assert r["a_good.txt"].status == "ok" and r["g_good_gbk.txt"].status == "ok"
    assert (r["b_empty.txt"].status, r["b_empty.txt"].reason) == ("error", "empty file")
    assert r["c_blank.txt"].status == "error"
    assert r["d_binary.txt"].status == "error" and "binary" in r["d_binary.txt"].reason
    assert r["e_mojibake.txt"].status == "error" and "mis-decoded" in r["e_mojibake.txt"].reason
    assert all(getattr(r["e_mojibake.txt"].records[0], f) is None for f in ("issuer", "title", "date"))
    assert r["f_news.txt"].status == "not_letter" and "news" in r["f_news.txt"].reason
    # beside each reason in words, its code: what code (and a user filtering the files table) decides on
    codes = {name: row.reason_code for name, row in r.items()}
    assert codes == {"a_good.txt": None, "g_good_gbk.txt": None, "b_empty.txt": "empty", "c_blank.txt": "empty",
                     "d_binary.txt": "binary", "e_mojibake.txt": "mojibake", "f_news.txt": "not_letter"}
    assert r["f_news.txt"].records[0].reason_code == "not_letter"


def test_huge_text_file_is_refused_without_reading_it(tmp_path):
    big = tmp_path / "huge.txt"
    with open(big, "wb") as f:  # a sparse 200 MB file: cheap to make, refused by size before reading
        f.truncate(200 * 1024 * 1024)
    res = process_file(big)
    assert res.status == "error" and "too large" in res.reason and "limit" in res.reason
    assert res.reason_code == "too_large" and not res.transient


def test_unreadable_file(tmp_path, monkeypatch):
    p = tmp_path / "locked.txt"
    p.write_text(GOOD, encoding="utf-8")
    p.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make the read fail the way it does for other users
        real = Path.read_bytes

        def denied(self):
            if self.name == "locked.txt":
                raise PermissionError(13, "Permission denied", str(self))
            return real(self)
        monkeypatch.setattr(Path, "read_bytes", denied)
    res = process_file(p)
    assert (res.status, res.reason, res.reason_code) == ("error", "permission denied", "permission_denied")


def test_symlink_loop_is_walked_once(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.txt").write_text(GOOD, encoding="utf-8")
    os.symlink(tmp_path, tmp_path / "sub" / "loop")
    os.symlink(tmp_path / "sub", tmp_path / "again")
    found = [p.name for p in iter_paths([tmp_path])]
    assert found == ["x.txt"]


def test_gbk_byte_file_names(tmp_path):
    name = "关于第12号建议的答复.txt".encode("gbk")
    fd = os.open(os.path.join(os.fsencode(tmp_path), name), os.O_WRONLY | os.O_CREAT)
    os.write(fd, GOOD.encode("utf-8"))
    os.close(fd)
    [path] = list(iter_paths([tmp_path]))
    res = process_file(path)
    assert res.status == "ok"
    assert res.records[0].source.endswith("关于第12号建议的答复.txt")
    res.records[0].source.encode("utf-8")  # writable as UTF-8


ADVERSARIAL = [
    "1" * 50000,
    "万" * 20000,
    "（" * 5000 + "关于" + "）" * 5000,
    "第" + "十" * 10000 + "届",
    "〔" * 3000 + "2020" + "〕" * 3000 + "号" * 3000,
    ("代表、" * 3000) + "代表：",
    "关于" * 5000 + "的答复",
    "\n".join(["联系人：" + "张" * 500] * 200),
    # thousands of amounts in one sentence of a letter (sentence bounds were once quadratic)
    "关于第5号建议的答复\n李四代表：\n您提出的建议收悉，现答复如下：\n" + "安排资金50万元、" * 8000,
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=range(len(ADVERSARIAL)))
def test_adversarial_text_gives_a_record_quickly(text):
    t0 = time.perf_counter()
    rec = parse_text(text)
    assert rec.source == "<text>"
    assert time.perf_counter() - t0 < 20  # a bound, not a speed target: no catastrophic backtracking


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789万亿元一二三四五六七八九十百千届次会议第号关于的建议提案代表委员：:，。、（）〔〕《》\n ")),
               max_size=3000))
def test_random_letter_like_text_never_raises(text):
    t0 = time.perf_counter()
    rec = parse_text(text)
    assert rec.status in ("ok", "not_letter")
    assert time.perf_counter() - t0 < 10
