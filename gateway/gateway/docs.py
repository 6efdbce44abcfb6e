"""The API docs page: Swagger UI served from the ``swagger_ui_bundle`` package, so it works
on a machine without internet (no CDN, and the online spec validator is switched off)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, redirect, send_from_directory, url_for
from swagger_ui_bundle import swagger_ui_path

ASSETS = Path(str(swagger_ui_path))

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>CRM API</title>
  <link rel="stylesheet" href="{css}">
  <link rel="icon" type="image/png" href="{icon}">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{bundle}"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "{spec}",
      dom_id: "#swagger-ui",
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      deepLinking: true,
      persistAuthorization: true,
      validatorUrl: null
    }});
  </script>
</body>
</html>
"""


def docs_blueprint(spec_path: str) -> Blueprint:
    bp = Blueprint("docs", __name__)

    @bp.get("/")
    def root() -> Response:
        return redirect(url_for("docs.page"))  # type: ignore[return-value]

    @bp.get("/docs/")
    @bp.get("/docs")  # registered first, so url_for() names this one
    def page() -> Response:
        def asset(name: str) -> str:
            return url_for("docs.static_asset", filename=name)

        html = PAGE.format(css=asset("swagger-ui.css"), icon=asset("favicon-32x32.png"),
                           bundle=asset("swagger-ui-bundle.js"), spec=spec_path)
        return Response(html, mimetype="text/html")

    @bp.get("/docs/static/<path:filename>")
    def static_asset(filename: str) -> Response:
        return send_from_directory(ASSETS, filename, max_age=3600)

    return bp
