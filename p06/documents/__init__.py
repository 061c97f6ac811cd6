"""The documents a month gives people: the Word report and its Markdown draft, the workbook, the charts.

A layer of its own above `p06.publish`: documents read the published tables (and the templates and
declarations under catalog/); they never import `p06.ingest` or `p06.reconcile`, and nothing in
`p06.publish` imports them.
"""
