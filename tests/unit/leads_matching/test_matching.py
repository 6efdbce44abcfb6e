"""Company/person normalization and the explainable match rules (pure, no database)."""

from __future__ import annotations

import pytest

from leads.intake.matching import (
    COMPANY_FUZZY,
    COMPANY_PERSON_FUZZY,
    EMAIL_EXACT,
    PHONE_EXACT,
    Record,
    company_key,
    find_matches,
    person_key,
)


def _wide(text: str) -> str:
    """The full-width form of ASCII text, as Chinese input methods often type it."""
    return "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) for c in text)


@pytest.mark.parametrize(("raw", "key"), [
    ("ACME 有限公司", "acme"),
    ("Acme Co., Ltd.", "acme"),
    (_wide("ACME Inc."), "acme"),
    ("acme llc", "acme"),
    ("ACME GmbH", "acme"),
    ("Hangzhou Bamboo Co., Ltd.", "hangzhoubamboo"),
    ("杭州竹子股份有限公司", "杭州竹子"),
    ("杭州竹子有限责任公司", "杭州竹子"),
    ("杭州竹子集团有限公司", "杭州竹子"),
    ("杭州竹子" + _wide("(") + "集团" + _wide(")") + "有限公司", "杭州竹子"),
    ("北京·星火科技有限公司", "北京星火科技"),
    ("Group", "group"),  # nothing but a suffix: kept, never an empty key
    ("有限公司", "有限公司"),
    ("", None),
    (None, None),
    ("  ,. ", None),
])
def test_company_key_strips_suffixes_punctuation_width_and_case(raw: str | None, key: str | None) -> None:
    assert company_key(raw) == key


@pytest.mark.parametrize(("raw", "key"), [
    ("Mr. Zhang San", "zhang san"),
    ("ZHANG  San", "zhang san"),
    ("张三先生", "张三"),
    ("王总", "王"),
    (_wide("Li Lei"), "li lei"),
    ("", None),
])
def test_person_key(raw: str, key: str | None) -> None:
    assert person_key(raw) == key


CAND = Record(id="new", name="Zhang San", company="ACME Co., Ltd.", phone="+8613800138000",
              email="zs@acme.example")


def test_phone_and_email_exact_name_their_rule_and_field() -> None:
    existing = [Record(id="a", name="Other", phone="+8613800138000"),
                Record(id="b", name="Other", email="ZS@acme.example"),
                Record(id="c", name="Nobody", phone="+8613900000000")]
    matches = find_matches(CAND, existing)
    assert [(m.lead_id, m.rule, m.score, m.fields) for m in matches] == [
        ("a", PHONE_EXACT, 100.0, ("phone",)), ("b", EMAIL_EXACT, 100.0, ("email",))]


def test_company_person_fuzzy_across_scripts_of_suffix_and_word_order() -> None:
    existing = [Record(id="d", name="San Zhang", company="ACME 有限公司"),
                Record(id="e", name="Li Si", company="ACME Inc."),  # same company, other person
                Record(id="f", name="Zhang San", company="Globex Ltd")]  # same person, other company
    matches = find_matches(CAND, existing)
    assert [(m.lead_id, m.rule, m.fields) for m in matches] == [
        ("d", COMPANY_PERSON_FUZZY, ("company", "name"))]
    assert matches[0].score == 100.0


def test_threshold_is_a_parameter() -> None:
    existing = [Record(id="g", name="Zhang Shan", company="ACME Tech Co., Ltd.")]
    assert find_matches(CAND, existing, threshold=95) == []
    loose = find_matches(CAND, existing, threshold=50)
    assert [m.rule for m in loose] == [COMPANY_PERSON_FUZZY]
    assert 50 <= loose[0].score < 100


def test_account_without_person_matches_on_company_alone() -> None:
    existing = [Record(id="acc", company="Acme Company Limited", kind="account")]
    [match] = find_matches(CAND, existing)
    assert (match.lead_id, match.rule, match.kind, match.fields) == (
        "acc", COMPANY_FUZZY, "account", ("company",))


def test_several_rules_on_one_record_are_all_listed_strongest_first() -> None:
    same = Record(id="h", name="Zhang San", company="Acme", phone="+8613800138000",
                  email="zs@acme.example")
    rules = [m.rule for m in find_matches(CAND, [same])]
    assert rules == [PHONE_EXACT, EMAIL_EXACT, COMPANY_PERSON_FUZZY]


def test_a_record_never_matches_itself_and_empty_fields_never_match() -> None:
    assert find_matches(CAND, [CAND]) == []
    bare = Record(id="x", name="Zhang San")
    assert find_matches(Record(id="y", name="Zhang San"), [bare]) == []
