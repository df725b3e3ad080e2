"""Parse expositions with the official prometheus_client parsers (0.0.4 text and OpenMetrics 1.0).

stdin: JSON [{"format": "text"|"openmetrics", "text": "..."}]; stdout: JSON, per item either
{"ok": true, "families": [{"name", "type", "samples": [[name, labels, value-as-text]]}]} or
{"ok": false, "error": "..."}.
"""
import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

out = []
for item in json.load(sys.stdin):
    parse = parse_openmetrics if item["format"] == "openmetrics" else parse_text
    try:
        families = [
            {
                "name": f.name,
                "type": f.type,
                "samples": [[s.name, s.labels, repr(float(s.value))] for s in f.samples],
            }
            for f in parse(item["text"])
        ]
        out.append({"ok": True, "families": families})
    except Exception as e:  # noqa: BLE001 - any parser error is the answer
        out.append({"ok": False, "error": repr(e)[:500]})
json.dump(out, sys.stdout)
