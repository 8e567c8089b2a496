"""Rule files: loading, validation errors that name file, rule and line, layering, examples."""
import textwrap
from pathlib import Path

import pytest

from replyparse.engine.examples import run_examples
from replyparse.pipeline import parse_text
from replyparse.engine.rules import RuleError, load_rules

GENERIC_FAMILIES = ["cc", "contact", "date", "doc_number", "handling", "issuer", "letter", "proposal",
                    "proposers", "segment", "title"]


def test_builtin_rules_load_with_stable_unique_ids():
    rs = load_rules()
    ids = [r.id for fam in rs.families.values() for r in fam]
    assert len(ids) == len(set(ids))
    assert all(r.id.split(".")[0] == r.family for fam in rs.families.values() for r in fam)


@pytest.mark.parametrize("family", GENERIC_FAMILIES)
def test_rule_file_examples_pass(family):
    rs = load_rules()
    n, failures = run_examples(rs, [family])
    assert n >= 2, f"{family}.yaml needs positive and negative examples"
    assert not failures, "\n".join(map(str, failures))


def test_each_header_family_has_a_negative_example():
    rs = load_rules()
    for fam in ["doc_number", "issuer", "title", "proposal", "proposers", "handling", "date", "contact", "cc"]:
        assert any(None in ex.expect.values() or False in ex.expect.values() for ex in rs.examples[fam]), fam


def _write(d: Path, name: str, body: str) -> Path:
    p = d / name
    p.write_text(textwrap.dedent(body), encoding="utf-8")
    return p


@pytest.mark.parametrize("body, needle", [
    ("rules:\n  - id: title.x\n    pattern: '(unclosed'\n", "rule title.x: bad regex"),
    ("rules:\n  - id: title.x\n    pattern: 'a'\n    colour: red\n", "rule title.x: Additional properties"),
    ("rules:\n  - id: title.x\n    pattern: 'a'\n  - id: title.x\n    pattern: 'b'\n", "rule title.x: duplicate id"),
    ("rules:\n  - id: title.x\n    pattern: '{NOPE}'\n", "rule title.x: unknown def {NOPE}"),
    ("rules:\n  - id: title.x\n    pattern: [unclosed\n", "malformed YAML"),
    ("rules:\n  - id: Bad Id\n    pattern: 'a'\n", "does not match"),
])
def test_rule_errors_name_file_rule_and_line(tmp_path, body, needle):
    path = _write(tmp_path, "title.yaml", body)
    with pytest.raises(RuleError) as err:
        load_rules([tmp_path])
    msg = str(err.value)
    assert str(path) in msg and needle in msg
    assert msg.split(str(path) + ":")[1].split(":")[0].isdigit()  # a line number follows the file


def test_error_line_points_at_the_bad_rule(tmp_path):
    _write(tmp_path, "cc.yaml", """\
        rules:
          - id: cc.fine
            pattern: 'a'
          - id: cc.broken
            pattern: 'b('
        """)
    with pytest.raises(RuleError, match=r"cc.yaml:4: rule cc.broken"):
        load_rules([tmp_path])


LETTER = """关于城关镇第十届人大三次会议第12号建议的答复
王某某代表：
您提出的《关于修缮老街排水沟的建议》收悉，现答复如下：
我局已安排资金进行维修。
特此答复。
城关镇建设办
2021年6月1日
"""


def test_a_rules_folder_layers_over_the_builtin_rules(tmp_path):
    base = parse_text(LETTER)
    assert base.issuer == "城关镇建设办"
    # a region signs with 承办科室 lines: a new rule adds the style, an override changes a built-in rule
    _write(tmp_path, "issuer.yaml", """\
        rules:
          - id: issuer.signature
            segment: signature
            priority: 40
            pattern: '^(?P<v>城关镇\\p{Han}{1,6}办)$'
            value: 城关镇人民政府建设办
        """)
    layered = load_rules([tmp_path])
    rec = parse_text(LETTER, rules=layered)
    assert rec.issuer == "城关镇人民政府建设办"
    assert rec.evidence["issuer"].rule == "issuer.signature"
    assert [r.id for r in layered.rules("issuer")].count("issuer.signature") == 1
    assert layered.version != load_rules().version


def test_rules_check_command(capsys):
    from replyparse.cli import main

    assert main(["rules", "check"]) == 0
    out = capsys.readouterr().out
    assert "total" in out and "examples:" in out
