"""leads and accounts each keep a copy of the company normalizer (services never import each
other); a conversion links to an existing account only if both copies agree."""

from __future__ import annotations

import pytest

SAMPLES = [
    None, "", "ACME 有限公司", "Acme Co., Ltd.", "\uff21\uff23\uff2d\uff25 Inc", "有限公司",
    "Hangzhou Bamboo Co., Ltd.",
    "杭州竹子股份有限公司", "Siemens AG", "Group", "北京 集团公司", "Foo_Bar GmbH & Co. KG",
    "  spaced   out  llc ", "深圳市腾讯计算机系统有限公司", "A.B.C. Holdings Ltd", "企业",
]


@pytest.mark.parametrize("name", SAMPLES)
def test_both_copies_agree(name: str | None) -> None:
    from accounts.companies import company_key as accounts_key
    from leads.intake.matching import company_key as leads_key

    assert accounts_key(name) == leads_key(name)


def test_the_copy_normalizes() -> None:
    from accounts.companies import company_key

    assert company_key("\uff21\uff23\uff2d\uff25 Inc") == company_key("Acme Co., Ltd.") == "acme"
