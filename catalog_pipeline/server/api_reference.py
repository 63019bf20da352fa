"""A plain HTML reference of the admin API, generated from its OpenAPI document. It loads nothing
from anywhere (no script, no stylesheet, no font): everything is inline, and the page is served
with a Content-Security-Policy that forbids any fetch."""

from __future__ import annotations

import json
from html import escape
from typing import Any

CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

_STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
code, pre { font: 13px/1.4 ui-monospace, monospace; background: #f4f4f4; }
pre { padding: .6rem; overflow-x: auto; }
section.route { border-top: 1px solid #ddd; padding-top: .5rem; margin-top: 1.5rem; }
.method { font-weight: bold; text-transform: uppercase; margin-right: .5rem; }
table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: .2rem .5rem; text-align: left; vertical-align: top; }
"""


def render_reference(document: dict[str, Any]) -> str:
    info = document.get("info", {})
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(info.get('title', 'API'))} reference</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{escape(info.get('title', 'API'))} <small>{escape(str(info.get('version', '')))}</small></h1>",
        f"<p>{escape(info.get('description', ''))}</p>",
        "<p>The machine-readable document: <code>GET /admin/openapi.json</code>.</p>",
        "<h2>Routes</h2><ul>",
    ]
    operations = [(path, method, operation) for path, methods in document.get("paths", {}).items()
                  for method, operation in methods.items()]
    for path, method, operation in operations:
        parts.append(f'<li><a href="#{_anchor(method, path)}"><span class="method">{escape(method)}</span>'
                     f"<code>{escape(path)}</code></a> {escape(operation.get('summary', ''))}</li>")
    parts.append("</ul>")
    for path, method, operation in operations:
        parts.append(_operation(path, method, operation))
    schemas = document.get("components", {}).get("schemas", {})
    if schemas:
        parts.append("<h2>Schemas</h2>")
        for name, schema in schemas.items():
            parts.append(f'<h3 id="schema-{escape(name)}">{escape(name)}</h3><pre>{escape(json.dumps(schema, indent=2))}</pre>')
    parts.append("</body></html>")
    return "\n".join(parts)


def _operation(path: str, method: str, operation: dict[str, Any]) -> str:
    parts = [
        f'<section class="route" id="{_anchor(method, path)}">',
        f'<h3><span class="method">{escape(method)}</span><code>{escape(path)}</code></h3>',
        f"<p>{escape(operation.get('summary', ''))}</p>",
    ]
    if operation.get("description"):
        parts.append(f"<p>{escape(operation['description'])}</p>")
    parameters = operation.get("parameters", [])
    if parameters:
        parts.append("<table><tr><th>parameter</th><th>in</th><th>required</th><th>meaning</th></tr>")
        for parameter in parameters:
            parts.append(
                f"<tr><td><code>{escape(parameter['name'])}</code></td><td>{escape(parameter.get('in', ''))}</td>"
                f"<td>{'yes' if parameter.get('required') else 'no'}</td>"
                f"<td>{escape(parameter.get('description', ''))}</td></tr>"
            )
        parts.append("</table>")
    parts.append("<table><tr><th>status</th><th>meaning</th><th>body</th></tr>")
    for status, response in operation.get("responses", {}).items():
        parts.append(f"<tr><td>{escape(status)}</td><td>{escape(response.get('description', ''))}</td>"
                     f"<td>{_schema_link(response)}</td></tr>")
    parts.append("</table></section>")
    return "\n".join(parts)


def _schema_link(response: dict[str, Any]) -> str:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    reference = schema.get("$ref", "")
    if not reference:
        return ""
    name = reference.rsplit("/", 1)[-1]
    return f'<a href="#schema-{escape(name)}">{escape(name)}</a>'


def _anchor(method: str, path: str) -> str:
    return escape(f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""))
