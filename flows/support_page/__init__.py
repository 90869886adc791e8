"""The support page: a small read-only web app over the warehouse for support agents.

`credits serve-support` serves it (uvicorn); `app.create` builds it (Starlette, Jinja2 templates
with autoescape). It answers through the same functions as `credits lookup` and `credits
customers`, on a read-only connection, and never imports Prefect.
"""
