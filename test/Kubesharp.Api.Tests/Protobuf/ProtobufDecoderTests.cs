using System.Text.Json.Nodes;
using Google.Protobuf;
using Kubesharp.Api.Protobuf;

namespace Kubesharp.Api.Tests.Protobuf;

public sealed class ProtobufDecoderTests
{
    // Bodies written by kubectl 1.32 (create deployment web --image=busybox --replicas=2; create service nodeport ns --tcp=80:8080).
    private const string KubectlDeployment = "6B3873000A150A07617070732F7631120A4465706C6F796D656E7412AF010A1F0A0377656212001A0022002A003200380042005A0A0A036170701203776562127E0802120C0A0A0A0361707012037765621A640A1C0A0012001A0022002A003200380042005A0A0A036170701203776562124412260A0762757379626F78120762757379626F782A0042006A007200800100880100900100A201001A00320042004A0052005800600068008201008A01009A0100C2010022020A00280038001A0C0800100018002000280038001A002200";
    private const string KubectlService = "6B3873000A0D0A02763112075365727669636512650A1D0A026E7312001A0022002A003200380042005A090A0361707012026E7312400A1B0A0738302D38303830120354435018502207080010903F1A00280012090A0361707012026E731A0022084E6F6465506F72743A00420052005A00600068001A020A001A002200";

    /// <summary>Writes a message with Google.Protobuf's own encoder, independent of the code under test.</summary>
    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        write(output);
        output.Flush();
        return buffer.ToArray();
    }

    private static void Bytes(CodedOutputStream o, int number, byte[] value)
    {
        o.WriteTag(number, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(value));
    }

    private static void Str(CodedOutputStream o, int number, string value)
    {
        o.WriteTag(number, WireFormat.WireType.LengthDelimited);
        o.WriteString(value);
    }

    private static void Varint(CodedOutputStream o, int number, long value)
    {
        o.WriteTag(number, WireFormat.WireType.Varint);
        o.WriteInt64(value);
    }

    private static byte[] MapEntry(string key, byte[] value, bool valueIsMessage = true) => Message(o =>
    {
        Str(o, 1, key);
        Bytes(o, 2, value);
        _ = valueIsMessage;
    });

    private static byte[] StringEntry(string key, string value) => Message(o =>
    {
        Str(o, 1, key);
        Str(o, 2, value);
    });

    private static byte[] Envelope(string apiVersion, string kind, byte[] raw)
    {
        var unknown = Message(o =>
        {
            Bytes(o, 1, Message(t =>
            {
                Str(t, 1, apiVersion);
                Str(t, 2, kind);
            }));
            Bytes(o, 2, raw);
            Str(o, 3, string.Empty);
            Str(o, 4, string.Empty);
        });
        return [.. "k8s\0"u8.ToArray(), .. unknown];
    }

    private static void AssertJson(string expected, JsonNode actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected}\nactual   {actual.ToJsonString()}");

    [Fact]
    public void DecodeEnvelope_Deployment_MapsEveryKindOfField()
    {
        var meta = Message(o =>
        {
            Str(o, 1, "web");
            Str(o, 3, string.Empty); // by value in Go: an empty namespace is omitted, as in JSON
            Bytes(o, 8, Message(t => Varint(t, 1, 1_700_000_000))); // creationTimestamp
            Bytes(o, 11, StringEntry("app", "web"));
            Bytes(o, 11, StringEntry("tier", "front"));
        });
        var container = Message(o =>
        {
            Str(o, 1, "main");
            Str(o, 2, "busybox");
            Str(o, 3, "sleep"); // command, repeated
            Str(o, 3, "60");
            Bytes(o, 8, Message(r => // resources.limits
                Bytes(r, 1, MapEntry("cpu", Message(q => Str(q, 1, "500m"))))));
            Bytes(o, 6, Message(p => Varint(p, 3, 80))); // ports[0].containerPort
        });
        var spec = Message(o =>
        {
            Varint(o, 1, 2); // replicas
            Bytes(o, 2, Message(s => Bytes(s, 1, StringEntry("app", "web"))));
            Bytes(o, 3, Message(t =>
            {
                Bytes(t, 1, Message(m => Bytes(m, 11, StringEntry("app", "web"))));
                Bytes(t, 2, Message(p => Bytes(p, 2, container)));
            }));
            Bytes(o, 4, Message(s =>
            {
                Str(s, 1, "RollingUpdate");
                Bytes(s, 2, Message(r =>
                {
                    Bytes(r, 1, Message(i => Varint(i, 2, 1))); // maxUnavailable: 1
                    Bytes(r, 2, Message(i =>
                    {
                        Varint(i, 1, 1);
                        Str(i, 3, "25%"); // maxSurge: "25%"
                    }));
                }));
            }));
            Varint(o, 7, 0); // paused=false is by value: omitted
            o.WriteTag(99, WireFormat.WireType.Varint); // unknown field: skipped
            o.WriteInt32(5);
        });
        var bytes = Envelope("apps/v1", "Deployment", Message(o =>
        {
            Bytes(o, 1, meta);
            Bytes(o, 2, spec);
        }));

        var obj = ProtobufDecoder.DecodeEnvelope(bytes);

        AssertJson("""
            {"apiVersion":"apps/v1","kind":"Deployment",
             "metadata":{"name":"web","creationTimestamp":"2023-11-14T22:13:20Z","labels":{"app":"web","tier":"front"}},
             "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
               "template":{"metadata":{"labels":{"app":"web"}},
                 "spec":{"containers":[{"name":"main","image":"busybox","command":["sleep","60"],"ports":[{"containerPort":80}],"resources":{"limits":{"cpu":"500m"}}}]}},
               "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"maxSurge":"25%"}}}}
            """, obj);
    }

    [Fact]
    public void DecodeEnvelope_SecretBytes_AreBase64()
    {
        var bytes = Envelope("v1", "Secret", Message(o =>
        {
            Bytes(o, 1, Message(m => Str(m, 1, "s")));
            Bytes(o, 2, MapEntry("a", [0x62, 0x00, 0xff]));
            Str(o, 3, "Opaque");
            Varint(o, 5, 1); // immutable: a pointer, kept
        }));

        var obj = ProtobufDecoder.DecodeEnvelope(bytes);

        AssertJson("""{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"a":"YgD/"},"type":"Opaque","immutable":true}""", obj);
    }

    [Fact]
    public void DecodeEnvelope_EvictionWithDeleteOptions_KeepsPointerZero()
    {
        var bytes = Envelope("policy/v1", "Eviction", Message(o =>
        {
            Bytes(o, 1, Message(m =>
            {
                Str(m, 1, "p");
                Str(m, 3, "ns");
            }));
            Bytes(o, 2, Message(d =>
            {
                Varint(d, 1, 0); // gracePeriodSeconds: 0 is a pointer, meaningful
                Bytes(d, 2, Message(p => Str(p, 1, "uid-1")));
                Str(d, 5, "All");
            }));
        }));

        var obj = ProtobufDecoder.DecodeEnvelope(bytes);

        AssertJson("""
            {"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"p","namespace":"ns"},
             "deleteOptions":{"gracePeriodSeconds":0,"preconditions":{"uid":"uid-1"},"dryRun":["All"]}}
            """, obj);
    }

    [Fact]
    public void DecodeEnvelope_KubectlDeployment_MatchesKubectlJson()
    {
        var obj = ProtobufDecoder.DecodeEnvelope(Convert.FromHexString(KubectlDeployment));

        AssertJson("""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","creationTimestamp":null,"labels":{"app":"web"}},
             "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
               "template":{"metadata":{"creationTimestamp":null,"labels":{"app":"web"}},"spec":{"containers":[{"name":"busybox","image":"busybox","resources":{}}]}},
               "strategy":{}},"status":{}}
            """, obj);
    }

    [Fact]
    public void DecodeEnvelope_KubectlService_OmitsByValueZeros()
    {
        var obj = ProtobufDecoder.DecodeEnvelope(Convert.FromHexString(KubectlService));

        AssertJson("""
            {"apiVersion":"v1","kind":"Service","metadata":{"name":"ns","creationTimestamp":null,"labels":{"app":"ns"}},
             "spec":{"ports":[{"name":"80-8080","protocol":"TCP","port":80,"targetPort":8080}],"selector":{"app":"ns"},"type":"NodePort"},
             "status":{"loadBalancer":{}}}
            """, obj);
    }

    [Fact]
    public void DecodeEnvelope_EmbeddedStructs_AreInline()
    {
        var bytes = Envelope("v1", "Pod", Message(o => Bytes(o, 2, Message(spec =>
        {
            Bytes(spec, 1, Message(v =>
            {
                Str(v, 1, "cfg");
                Bytes(v, 2, Message(src => Bytes(src, 19, Message(cm => Bytes(cm, 1, Message(r => Str(r, 1, "settings"))))))); // volumeSource.configMap.name
            }));
            Bytes(spec, 2, Message(c =>
            {
                Str(c, 1, "c");
                Bytes(c, 10, Message(p =>
                {
                    Bytes(p, 1, Message(h => Bytes(h, 1, Message(e => Str(e, 1, "true"))))); // handler.exec.command
                    Varint(p, 4, 5);
                }));
            }));
        }))));

        var obj = ProtobufDecoder.DecodeEnvelope(bytes);

        AssertJson("""
            {"apiVersion":"v1","kind":"Pod","spec":{"volumes":[{"name":"cfg","configMap":{"name":"settings"}}],
             "containers":[{"name":"c","livenessProbe":{"exec":{"command":["true"]},"periodSeconds":5}}]}}
            """, obj);
    }

    [Fact]
    public void DecodeEnvelope_PackedRepeated_IsAccepted()
    {
        // ContainerStatus-free example: Pod securityContext.supplementalGroups (repeated int64) written packed.
        var packed = Message(p =>
        {
            p.WriteInt64(1000);
            p.WriteInt64(2000);
        });
        var bytes = Envelope("v1", "Pod", Message(o => Bytes(o, 2, Message(spec => Bytes(spec, 14, Message(sc => Bytes(sc, 4, packed)))))));

        var obj = ProtobufDecoder.DecodeEnvelope(bytes);

        AssertJson("""{"apiVersion":"v1","kind":"Pod","spec":{"securityContext":{"supplementalGroups":[1000,2000]}}}""", obj);
    }

    [Theory]
    [InlineData("")]
    [InlineData("6B387300")] // magic only: no kind
    [InlineData("7B7D")] // JSON, no magic
    [InlineData("6B3873000A")] // truncated length
    [InlineData("6B3873000AFF")] // length past the end
    [InlineData("6B3873000A0D0A0276311207536563726574120A0A08FFFFFFFFFFFFFFFFFF")] // runaway varint
    [InlineData("6B3873000A0E0A027631120853656372657458")] // unknown kind
    [InlineData("6B3873000A0D0A0276311207536563726574120B")] // raw length past the end
    [InlineData("6B3873000A0D0A02763112075365637265741204080110011A0000")] // metadata with a varint wire type
    public void DecodeEnvelope_Malformed_ThrowsFormatException(string hex)
    {
        Assert.Throws<ProtobufFormatException>(() => ProtobufDecoder.DecodeEnvelope(Convert.FromHexString(hex)));
    }

    [Fact]
    public void DecodeEnvelope_TimesAndDurations_UseJsonForms()
    {
        var bytes = Envelope("events.k8s.io/v1", "Event", Message(o =>
        {
            Bytes(o, 2, Message(t =>
            {
                Varint(t, 1, 1_700_000_000);
                Varint(t, 2, 123_456_789);
            })); // eventTime (MicroTime)
            Bytes(o, 1, Message(m => Bytes(m, 9, Message(t => Varint(t, 1, 0))))); // deletionTimestamp at the epoch
        }));

        var obj = ProtobufDecoder.DecodeEnvelope(bytes);

        Assert.Equal("2023-11-14T22:13:20.123456Z", (string?)obj["eventTime"]);
        Assert.Equal("1970-01-01T00:00:00Z", (string?)obj["metadata"]!["deletionTimestamp"]);
    }

    [Theory]
    [InlineData(0L, "0s")]
    [InlineData(1_500_000_000L, "1.5s")]
    [InlineData(3_600_000_000_000L, "1h0m0s")]
    [InlineData(90_000_000_000L, "1m30s")]
    [InlineData(300_000_000L, "300ms")]
    [InlineData(1_500L, "1.5µs")]
    [InlineData(-2_000_000_000L, "-2s")]
    public void Decode_Duration_IsGoTextAndRoundTrips(long nanoseconds, string text)
    {
        // A message holding one metav1.Duration field.
        var wrapper = new ProtobufMessage("test.Wrapper", [new ProtobufField(1, "d", "d", ProtobufSchema.DurationMessage, ProtobufFieldKind.Singular, null)], isList: false);
        var raw = Message(o => Bytes(o, 1, Message(d => Varint(d, 1, nanoseconds))));

        var decoded = ProtobufDecoder.Decode(raw, wrapper);
        var reencoded = ProtobufDecoder.Decode(ProtobufEncoder.Encode(decoded, wrapper), wrapper);

        Assert.Equal(text, (string?)decoded["d"]);
        Assert.Equal(text, (string?)reencoded["d"]);
    }

    [Fact]
    public void EncodeEnvelope_DecodedObject_RoundTrips()
    {
        var original = JsonNode.Parse("""
            {"apiVersion":"apps/v1","kind":"Deployment",
             "metadata":{"name":"web","namespace":"default","creationTimestamp":"2023-11-14T22:13:20Z","labels":{"b":"2","a":"1"},
               "managedFields":[{"manager":"kubectl","operation":"Update","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:replicas":{}}}}]},
             "spec":{"replicas":0,"selector":{"matchLabels":{"app":"web"}},
               "template":{"metadata":{"labels":{"app":"web"}},"spec":{"enableServiceLinks":false,
                 "containers":[{"name":"c","image":"busybox","ports":[{"containerPort":80,"protocol":"TCP"}],"resources":{"requests":{"memory":"64Mi"}}}]}},
               "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":0}}}}
            """)!.AsObject();

        var decoded = ProtobufDecoder.DecodeEnvelope(ProtobufEncoder.EncodeEnvelope(original));

        AssertJson(original.ToJsonString(), decoded);
    }

    [Fact]
    public void Schema_KindsAndFields_ComeFromTheGeneratedTable()
    {
        Assert.Equal("k8s.io.api.apps.v1.Deployment", ProtobufSchema.ForKind("apps/v1", "Deployment")!.Name);
        Assert.Equal("k8s.io.api.core.v1.Pod", ProtobufSchema.ForKind("v1", "Pod")!.Name);
        Assert.Equal("k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions", ProtobufSchema.ForKind("v1", "DeleteOptions")!.Name);
        Assert.Equal("k8s.io.api.core.v1.Pod", ProtobufSchema.ForDefinition("io.k8s.api.core.v1.Pod")!.Name);
        var replicas = ProtobufSchema.Message("k8s.io.api.apps.v1.DeploymentSpec")!.FieldByNumber(1)!;
        Assert.Equal(("replicas", "int32", false), (replicas.JsonName, replicas.Type, replicas.OmitsZero));
        Assert.True(ProtobufSchema.Message("k8s.io.api.core.v1.Probe")!.FieldByNumber(1)!.IsInline);
        Assert.Equal(ProtobufFieldKind.Map, ProtobufSchema.Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta")!.FieldByJsonName("labels")!.Kind);
        Assert.True(ProtobufSchema.Message("k8s.io.api.authentication.v1.ExtraValue")!.IsList);
    }
}
