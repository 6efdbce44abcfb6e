"""HTTP API for intake and dedupe: dedupe check, bulk import, merge/unmerge, authorized list.

Thin like api.py: parse, call intake/dedupe/domain, serialize. Same prefix as the leads API.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import request
from flask.views import MethodView
from marshmallow import Schema, ValidationError

import authn
from authn.flask import current_principal, require_roles
from httpapi import Blueprint, Problem
from leads.intake import dedupe, search
from leads.intake import rules as domain
from leads.intake import service as intake
from leads.intake.matching import Record, company_key, company_similar
from leads.intake.models import Lead
from leads.intake.schemas import (
    AuthorizedListSchema,
    AuthorizedQuerySchema,
    DedupeCheckSchema,
    DedupeResultSchema,
    ImportJsonSchema,
    ImportOptionsSchema,
    ImportResultSchema,
    ImportRowSchema,
    MergeResultSchema,
    MergeSchema,
    UnmergeSchema,
)
from leads.ownership import service as ownership
from leads.web import SALES, _access, _ctx
from servicedb import read_connection

blp = Blueprint("leads_intake", __name__, url_prefix="/api/v1/leads",
                description="Lead intake: dedupe check, imports, merges, the authorized list")
MERGERS = (authn.ADMIN, authn.SALES_MANAGER, authn.SALES_REP)
MAX_IMPORT_ROWS = 5000
# CSV header → field; the Chinese headers are those of the paper registers (来人/来电登记表).
CSV_COLUMNS = {
    "name": "name", "contact": "name", "姓名": "name", "联系人": "name",
    "company": "company", "公司": "company", "单位": "company", "公司名称": "company",
    "phone": "phone", "mobile": "phone", "电话": "phone", "手机": "phone",
    "email": "email", "e-mail": "email", "邮箱": "email",
}
AUTHORIZED_THRESHOLD = 80.0


@blp.route("/dedupe-check")
class DedupeCheck(MethodView):
    @blp.arguments(DedupeCheckSchema)
    @blp.response(200, DedupeResultSchema)
    @require_roles(*SALES)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Which existing leads and accounts a candidate resembles, by which rule and how
        strongly. Writes nothing; contact details of the matches are never shown."""
        principal = current_principal()
        cand = Record(id="", name=body["name"], company=body["company"], phone=body["phone"],
                      email=body["email"])
        with _ctx().bus.session_factory() as session, session.begin():
            result = dedupe.check(session, cand, body["threshold"])
            matches = [intake.match_view(m, result, principal) for m in result.matches]
        return {"normalized": {"phone": body["phone"], "email": body["email"],
                               "company_key": company_key(body["company"])},
                "matches": matches}


def _load(schema: Schema, data: Any, location: str) -> dict[str, Any]:
    try:
        return schema.load(data if data is not None else {})
    except ValidationError as exc:
        raise Problem(422, "Unprocessable Content",
                      "The request did not validate; see errors for each field.",
                      errors={location: exc.messages}) from exc


def _csv_rows(raw: bytes) -> list[dict[str, Any]]:
    """Rows keyed by field; UTF-8 (with or without BOM) or GB18030, as Excel in China saves."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise Problem(422, "Unprocessable Content", "the CSV is neither UTF-8 nor GB18030") from exc
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise Problem(422, "Unprocessable Content", "the CSV is empty",
                      errors={"csv": {"header": ["A header row is required."]}})
    names = [h.strip().lower() for h in header]
    unknown = [h for h in names if h not in CSV_COLUMNS]
    fields = [CSV_COLUMNS.get(h) for h in names]
    if unknown or "name" not in fields or len(set(fields)) != len(fields):
        raise Problem(422, "Unprocessable Content", "the CSV header did not validate",
                      errors={"csv": {"header": [f"Unknown column {h!r}." for h in unknown]
                                      or ["Columns must be name, company, phone, email, "
                                          "each at most once; name is required."]}})
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue  # blank lines are not rows
        row: dict[str, Any] = {f: None for f in fields if f is not None}
        for f, v in zip(fields, values, strict=False):
            if f is not None:
                row[f] = v.strip() or None
        if len(values) > len(fields):
            row["_extra"] = values[len(fields):]
        rows.append(row)
    return rows


@blp.route("/import")
class Import(MethodView):
    @blp.response(200, ImportResultSchema)
    @blp.doc(requestBody={"required": True, "content": {
        "text/csv": {"schema": {"type": "string"},
                     "example": "name,company,phone,email\nWang Wu,Bamboo Co.,13800138000,\n"},
        "application/json": {"schema": ImportJsonSchema}}},
        parameters=[{"in": "query", "name": "show_name", "schema": {"type": "string"},
                     "description": "With text/csv: the show (required for trade_show/event)"},
                    {"in": "query", "name": "source", "schema": {"type": "string"},
                     "description": "With text/csv: trade_show (default), event, api_import"},
                    {"in": "query", "name": "show_ended_on",
                     "schema": {"type": "string", "format": "date"},
                     "description": "With text/csv: the show's last day"}])
    @require_roles(*SALES)
    def post(self) -> dict[str, Any]:
        """Import a trade show's (or event's) leads: a CSV body (text/csv, options in the
        query) or JSON rows. Each row is answered on its own — created, duplicate (same phone
        or e-mail as a live lead; nothing written) or error with field messages — and good
        rows are kept when others fail."""
        if request.mimetype == "text/csv":
            options = _load(ImportOptionsSchema(), request.args.to_dict(), "query")
            rows = _csv_rows(request.get_data())
            if not rows:
                raise Problem(422, "Unprocessable Content", "the CSV has no rows",
                              errors={"csv": {"rows": ["At least one row is required."]}})
            if len(rows) > MAX_IMPORT_ROWS:
                raise Problem(422, "Unprocessable Content", f"at most {MAX_IMPORT_ROWS} rows")
        elif request.mimetype == "application/json":
            if request.args:  # with JSON the options go in the body
                raise Problem(422, "Unprocessable Content", "options go in the JSON body",
                              errors={"query": {k: ["Unknown field."] for k in request.args}})
            options = _load(ImportJsonSchema(), request.get_json(silent=True), "json")
            rows = options.pop("rows")
        else:
            raise Problem(415, "Unsupported Media Type", "send text/csv or application/json")
        return _import(options, rows)


def _import(options: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    ctx = _ctx()
    principal = current_principal()
    owner = (principal.sub, principal.team)
    results: list[dict[str, Any]] = []
    with ctx.bus.session_factory() as session, session.begin():
        for number, raw in enumerate(rows, start=1):
            extra = raw.pop("_extra", None) if isinstance(raw, dict) else None
            try:
                row = ImportRowSchema().load(raw)
                if extra:
                    raise ValidationError({"_row": ["More values than columns."]})
            except ValidationError as exc:
                results.append({"row": number, "status": "error", "errors": exc.messages,
                                "matches": []})
                continue
            body = {**row, "source": options["source"], "show_name": options["show_name"],
                    "show_ended_on": options["show_ended_on"]}
            intake.lock_identity(session, body.get("phone"), body.get("email"))
            result = dedupe.check(session, intake.candidate(body))
            matches = [intake.match_view(m, result, principal) for m in result.matches]
            existing = intake.exact_duplicate(result)
            if existing is not None:  # the first registration holds: the row names its owner
                results.append({"row": number, "status": "duplicate", "lead_id": existing.id,
                                "code": existing.code, "owner_id": existing.owner_id,
                                "matches": matches})
                continue
            lead = intake.create_lead(ctx, session, principal, body, owner)
            results.append({"row": number, "status": "created", "lead_id": lead.id,
                            "code": lead.code, "owner_id": lead.owner_id, "matches": matches})
    count = {s: sum(r["status"] == s for r in results) for s in ("created", "duplicate", "error")}
    return {"show_name": options["show_name"], "source": options["source"],
            "created": count["created"], "duplicates": count["duplicate"], "errors": count["error"],
            "rows": results}


def _lock_pair(session: Any, first_id: str, second_id: str) -> tuple[Lead, Lead]:
    """Both leads locked in id order (no deadlock between opposite merges), 404 if either is
    missing or not the caller's to see."""
    if first_id == second_id:
        raise Problem(422, "Unprocessable Content", "a lead cannot be merged with itself",
                      errors={"json": {"duplicate_id": ["Must differ from the surviving lead."]}})
    principal = current_principal()
    found = {}
    for lead_id in sorted((first_id, second_id)):
        lead = session.get(Lead, lead_id, with_for_update=True)
        if lead is None or not domain.can_view(principal, _access(lead)):
            raise Problem(404, "Not Found", f"no lead {lead_id}")
        found[lead_id] = lead
    survivor, duplicate = found[first_id], found[second_id]
    if not domain.can_merge(principal, _access(survivor), _access(duplicate)):
        raise Problem(403, "Forbidden", "only a manager, an admin or the owner of both may merge")
    return survivor, duplicate


@blp.route("/<string:lead_id>/merge")
class MergeLead(MethodView):
    @blp.arguments(MergeSchema)
    @blp.response(200, MergeResultSchema)
    @require_roles(*MERGERS)
    def post(self, body: dict[str, Any], lead_id: str) -> dict[str, Any]:
        """Merge a duplicate into this lead: the survivor gains what it lacked and the
        duplicate's visits; the duplicate stays as a tombstone (merged_into) and the merge keeps
        a snapshot, so unmerge can restore both."""
        ctx = _ctx()
        principal = current_principal()
        with ctx.bus.session_factory() as session, session.begin():
            survivor, duplicate = _lock_pair(session, lead_id, body["duplicate_id"])
            try:
                merge = intake.merge(session, ctx.bus, survivor, duplicate, body["reason"],
                                     ctx.clock(), principal.sub)
            except domain.RuleViolation as exc:
                raise Problem(409, "Conflict", str(exc)) from exc
        return {"merge_id": merge.id, "survivor": survivor, "merged": duplicate}


@blp.route("/<string:lead_id>/unmerge")
class UnmergeLead(MethodView):
    @blp.arguments(UnmergeSchema)
    @blp.response(200, MergeResultSchema)
    @require_roles(*MERGERS)
    def post(self, body: dict[str, Any], lead_id: str) -> dict[str, Any]:
        """Undo the latest merge of ``duplicate_id`` into this lead from its snapshot. Fields
        filled by the merge are cleared only if nobody has changed them since."""
        ctx = _ctx()
        principal = current_principal()
        with ctx.bus.session_factory() as session, session.begin():
            survivor, duplicate = _lock_pair(session, lead_id, body["duplicate_id"])
            try:
                merge = intake.unmerge(session, ctx.bus, survivor, duplicate, ctx.clock(),
                                       principal.sub)
            except domain.RuleViolation as exc:
                raise Problem(409, "Conflict", str(exc)) from exc
        return {"merge_id": merge.id, "survivor": survivor, "merged": duplicate}


@blp.route("/authorized")
class Authorized(MethodView):
    @blp.arguments(AuthorizedQuerySchema, location="query")
    @blp.response(200, AuthorizedListSchema)
    @require_roles(*SALES)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Is this company already someone's? Owned open leads and accounts with a similar
        company name: only the name, the owner and when the lead's protection ends — never a
        contact, so checking before approaching a company reveals nothing to poach."""
        key = company_key(query["company"])
        if key is None:
            raise Problem(422, "Unprocessable Content", "the company name has no letters or digits",
                          errors={"query": {"company": ["Not a company name."]}})
        items = authorized_items(_ctx(), key, query["limit"])
        return {"company_key": key, "items": items}


def authorized_items(ctx: Any, key: str, limit: int) -> list[dict[str, Any]]:
    """The authorized list of a company key, best first: its reads in one statement on a read
    connection (leads.intake.search), then the rapidfuzz score, then the protection of the
    leads that scored."""
    with read_connection(ctx.bus.engine) as conn:
        found = search.authorized_search(conn, key, limit)
    items: list[dict[str, Any]] = []
    leads: list[tuple[dict[str, Any], dedupe.SearchHit]] = []
    for hit in found.hits:
        score = company_similar(key, hit.company, AUTHORIZED_THRESHOLD)
        if score is None:
            continue
        item: dict[str, Any] = {"kind": hit.kind, "company": hit.company,
                                "owner_id": hit.owner_id, "protected_until": None,
                                "score": score}
        items.append(item)
        if hit.kind == dedupe.LEAD:
            leads.append((item, hit))
    states = ownership.states_from([(h.id, h.owner_id or "", h.created_at) for _, h in leads],
                                   found.last_change, found.contacts, ctx.clock(), found.policy)
    for item, hit in leads:
        item["protected_until"] = states[hit.id].protected_until
    items.sort(key=lambda i: -i["score"])
    return items[:limit]
