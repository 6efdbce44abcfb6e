"""The fields of the archive card (《客户档案表》, §2.4): name, Chinese and English label, kind
and size. One table drives the schemas (OpenAPI descriptions), the editable set and exports."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CardField:
    name: str
    zh: str
    en: str
    kind: str = "text"  # text | long | money | date | choice | phone | email | tax
    size: int = 200
    choices: tuple[str, ...] = ()

    @property
    def description(self) -> str:
        return f"{self.zh} / {self.en}"


F = CardField
CARD_FIELDS: tuple[CardField, ...] = (
    # header
    F("name", "客户名称", "Customer name"),
    F("company", "公司", "Company"),
    F("phone", "电话", "Main phone (E.164)", "phone", 40),
    F("email", "电子邮件", "Main e-mail", "email", 254),
    F("owner_id", "业务员", "Owning sales rep (user id)", size=100),
    F("owner_team", "业务员所属团队", "Owner's team", size=100),
    F("region", "地区", "Region", size=100),
    F("valid_until", "有效期", "Valid until", "date"),
    # 客户基本信息
    F("profile", "客户简介", "Customer profile", "long", 4000),
    F("address", "单位地址", "Address", size=300),
    F("website", "网址", "Website", size=300),
    # 基本信息
    F("customer_type", "类型", "Type: agent / factory / trading company / other", "choice", 20,
      ("agent", "factory", "trading_company", "other")),
    F("company_nature", "公司性质", "Company nature", size=100),
    F("legal_representative", "法人代表", "Legal representative", size=100),
    F("industry", "所在行业", "Industry", size=100),
    F("industry_situation", "行业基本情况", "Situation of the industry", "long", 4000),
    F("bank_credit_rating", "银行资信等级", "Bank credit rating: AAA / AA / A", "choice", 3,
      ("AAA", "AA", "A")),
    F("market_coverage", "市场覆盖", "Market coverage", "long", 2000),
    F("products", "经营产品", "Products", "long", 2000),
    F("business_scope", "经营范围", "Business scope", "long", 2000),
    F("registered_capital", "注册资本", "Registered capital (yuan)", "money"),
    # 市场
    F("market_positioning", "市场定位", "Market positioning", "long", 2000),
    F("sales_channels", "销售渠道", "Sales channels", "long", 2000),
    F("purchasing", "采购状况", "Purchasing situation", "long", 2000),
    # 销售额
    F("annual_sales", "年销售额", "Annual sales (yuan)", "money"),
    F("off_season_sales", "淡季销售额", "Off-season sales (yuan)", "money"),
    F("peak_sales", "旺季销售额", "Peak-season sales (yuan)", "money"),
    # 月购买力
    F("purchasing_power", "月购买力", "Monthly purchasing power, all suppliers (yuan)", "money"),
    F("off_season_purchasing_power", "淡季月购买力", "Off-season monthly purchasing power", "money"),
    F("peak_purchasing_power", "旺季月购买力", "Peak-season monthly purchasing power", "money"),
    # 竞争状况
    F("competitor_usage", "竞争对手在客户处使用情况", "Competitor's use at the customer", "long", 2000),
    F("competitor_satisfaction", "客户对其产品的满意度", "Customer's satisfaction with it", "long", 2000),
    F("competitor_rep", "竞争对手销售代表名字及销售特点", "Competitor's rep and style", "long", 2000),
    F("competitor_rep_relation", "该销售代表与客户关系", "That rep's relation to the customer",
      "long", 2000),
    # 备注
    F("remarks", "备注", "Remarks", "long", 4000),
    # 财务开票信息
    F("bank_name", "开户行", "Bank", size=200),
    F("bank_account", "帐号", "Bank account number", size=64),
    F("tax_number", "税务登记号(统一社会信用代码)", "Tax registration number (unified social credit "
      "code, 18 characters with check character)", "tax", 18),
    F("billing_phone", "开票电话", "Billing phone", "phone", 40),
    F("invoicing_requirements", "开票特殊要求", "Invoicing requirements", "long", 2000),
)
BY_NAME = {f.name: f for f in CARD_FIELDS}
REQUIRED = ("name",)
OWNER_FIELDS = ("owner_id", "owner_team")
CONTACTS = "contacts"
# Every key a direct edit or a change request may carry.
EDITABLE = (*BY_NAME, CONTACTS)

CONTACT_FIELDS: tuple[CardField, ...] = (
    F("category", "类别", "Category: primary / secondary / other", "choice", 20,
      ("primary", "secondary", "other")),
    F("name", "姓名", "Name", size=100),
    F("department_title", "部门及职务", "Department and title"),
    F("phone", "电话", "Phone", "phone", 40),
    F("fax", "传真", "Fax", "phone", 40),
    F("mobile", "手机", "Mobile", "phone", 40),
    F("email", "Email", "E-mail", "email", 254),
)
