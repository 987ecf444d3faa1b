"""The review step: look at what xmpcull decided, in a local browser page, and decide by hand.

model.py joins the latest run's report with what the sidecars say now; pages.py
renders the views (templates/, static/: plain HTML, CSS and a little JavaScript,
nothing from the network); previews.py makes the previews; decisions.py writes
each decision through the sidecar engine; server.py serves it all on 127.0.0.1
with a per-session token; static_export.py writes a read-only copy.
"""
