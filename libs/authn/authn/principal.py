"""Who is calling, as every service sees it, whatever proved it (a JWT or an API key)."""

from __future__ import annotations

from dataclasses import dataclass, field

# The one role catalogue (shared/domain/roles.md): every service means the same by a key.
ADMIN = "admin"  # 系统管理员
SALES_REP = "sales_rep"  # 业务员 / 销售代表
SALES_MANAGER = "sales_manager"  # 销售经理 / 销售部经理
RECEPTIONIST = "receptionist"  # 前台轮值
ARCHIVE_CLERK = "archive_clerk"  # 销售内勤(客户管理): the only direct editor of the archive
SERVICE_CLERK = "service_clerk"  # 销售内勤(客户服务)
REVIEW_GROUP = "review_group"  # 客户评审小组
SALES_OPS_MANAGER = "sales_ops_manager"  # 销售管理部经理: credit approval level 1
SALES_VP = "sales_vp"  # 销售副总: credit approval level 2
SALES_GM = "sales_gm"  # 销售总经理: credit approval level 3
GROUP_GM = "group_gm"  # 集团总经理: credit approval level 4, archive approval
BRAND_DEPT = "brand_dept"  # 品牌部
FINANCE = "finance"  # 财务部
SUPPORT_AGENT = "support_agent"  # 客服专员
SUPPORT_SUPERVISOR = "support_supervisor"  # 客服主管
TECHNICIAN = "technician"  # 技术部 / 售后技术人员
QUALITY_INSPECTOR = "quality_inspector"  # 质检部
INTEGRATION = "integration"  # API keys of order systems and outside subscribers
ROLES = (ADMIN, SALES_REP, SALES_MANAGER, RECEPTIONIST, ARCHIVE_CLERK, SERVICE_CLERK, REVIEW_GROUP,
         SALES_OPS_MANAGER, SALES_VP, SALES_GM, GROUP_GM, BRAND_DEPT, FINANCE, SUPPORT_AGENT,
         SUPPORT_SUPERVISOR, TECHNICIAN, QUALITY_INSPECTOR, INTEGRATION)


@dataclass(frozen=True)
class Principal:
    sub: str
    username: str
    roles: frozenset[str] = field(default_factory=frozenset)
    team: str | None = None
    name: str | None = None
    kind: str = "user"  # "user" (bearer JWT) or "apikey"

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles

    @property
    def is_manager(self) -> bool:
        return SALES_MANAGER in self.roles

    def to_dict(self) -> dict[str, object]:
        return {"sub": self.sub, "username": self.username, "roles": sorted(self.roles),
                "team": self.team, "name": self.name, "kind": self.kind}
