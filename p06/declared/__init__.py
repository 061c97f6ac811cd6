"""Typed models of everything declared in catalog/ and checks/rules.yaml (sources, measures, units, common
settings); rules and indicators have theirs beside the code that runs them (p06/reconcile/rules.py,
p06/publish/indicator_catalog.py). A misspelt field, an unknown value or facts that do not fit together
fail when the file is read, with the file and the field named."""
