"""Decode an OTLP/HTTP metrics request body with the official opentelemetry-proto package.

argv[1]: protobuf | json; stdin: the body; stdout: MessageToDict(…, use_integers_for_enums=True) as JSON.
"""
import json
import sys

from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

body = sys.stdin.buffer.read()
if sys.argv[1] == "protobuf":
    msg = ExportMetricsServiceRequest.FromString(body)
else:
    msg = json_format.Parse(body.decode("utf-8"), ExportMetricsServiceRequest())
json.dump(json_format.MessageToDict(msg, use_integers_for_enums=True), sys.stdout)
