import json
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as ms
from google.protobuf.descriptor import FieldDescriptor as F
T={F.TYPE_DOUBLE:'double',F.TYPE_FLOAT:'float',F.TYPE_INT64:'int64',F.TYPE_UINT64:'uint64',F.TYPE_INT32:'int32',F.TYPE_FIXED64:'fixed64',F.TYPE_FIXED32:'fixed32',F.TYPE_BOOL:'bool',F.TYPE_STRING:'string',F.TYPE_BYTES:'bytes',F.TYPE_UINT32:'uint32',F.TYPE_SFIXED32:'sfixed32',F.TYPE_SFIXED64:'sfixed64',F.TYPE_SINT32:'sint32',F.TYPE_SINT64:'sint64'}
seen={}; enums={}; skip={'Exemplar'}
def msg(d):
    if d.name in seen or d.name in skip: return
    seen[d.name]=None
    fields={}; oneofs={}
    for f in d.fields:
        if f.message_type is not None and f.message_type.name in skip: continue
        e={}
        if f.is_repeated: e['rule']='repeated'
        if f.type==F.TYPE_MESSAGE: e['type']=f.message_type.name; msg(f.message_type)
        elif f.type==F.TYPE_ENUM: e['type']=f.enum_type.name; enums[f.enum_type.name]={'values':{v.name:v.number for v in f.enum_type.values}}
        else: e['type']=T[f.type]
        e['id']=f.number
        if f.containing_oneof is not None and f.containing_oneof.name.startswith('_'): e['options']={'proto3_optional':True}
        fields[f.json_name]=e
    for o in d.oneofs:
        if o.name.startswith('_'):
            oneofs[o.name]={'oneof':[f.json_name for f in o.fields]}
            continue
        oneofs[''.join([o.name.split('_')[0]]+[x.title() for x in o.name.split('_')[1:]])]={'oneof':[f.json_name for f in o.fields if not (f.message_type is not None and f.message_type.name in skip)]}
    out={'fields':fields}
    if oneofs: out['oneofs']=oneofs
    seen[d.name]=out
msg(ms.ExportMetricsServiceRequest.DESCRIPTOR)
msg(ms.ExportMetricsServiceResponse.DESCRIPTOR)
nested=dict(seen); nested.update(enums)
print(json.dumps(nested, separators=(',',':')))
