using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.Api;
using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>A server of its own: the fuzzer creates, patches and deletes whatever its random requests allow.</summary>
public sealed class FuzzServer : TestServer;

/// <summary>
/// Sends random and hostile bodies to every resource endpoint the server lists in discovery, with every verb it
/// serves and every content type, from a seeded generator: no answer may be a 5xx, every error must be a Status,
/// and afterwards the server must still be ready and serve an ordinary create.
/// </summary>
public sealed class EndpointFuzzTests(FuzzServer server) : IClassFixture<FuzzServer>
{
    /// <summary>Fixed, so a failure reproduces; KUBESHARP_FUZZ_SEED explores other sequences.</summary>
    private static readonly int Seed = int.TryParse(Environment.GetEnvironmentVariable("KUBESHARP_FUZZ_SEED"), CultureInfo.InvariantCulture, out var seed) ? seed : 20261203;
    private const int Rounds = 3;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(40);

    private static readonly string[] ContentTypes =
    [
        "application/json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/json-patch+json",
        "application/apply-patch+yaml", "application/yaml", "application/vnd.kubernetes.protobuf",
    ];

    private static readonly string[] Keys =
    [
        "apiVersion", "kind", "metadata", "name", "namespace", "labels", "annotations", "finalizers", "ownerReferences", "generateName",
        "resourceVersion", "uid", "spec", "status", "data", "binaryData", "stringData", "type", "replicas", "selector", "matchLabels",
        "template", "containers", "image", "ports", "port", "nodePort", "targetPort", "containerPort", "resources", "limits", "cpu",
        "memory", "env", "value", "terminationGracePeriodSeconds", "rules", "subjects", "roleRef", "items", "conditions",
        "lastTransitionTime", "immutable", "$patch", "$retainKeys", "$setElementOrder/containers", "$deleteFromPrimitiveList/finalizers",
        "x", "..", "", "\u00e9",
    ];

    private static readonly string[] Names = ["fuzz-a", "fuzz-b", "..", "%2E%2E", ".", "a%2Fb", "UPPER", "x%25y", new string('n', 300), "fuzz-%C3%A9"];

    private sealed record Endpoint(string Collection, string Resource, string? Subresource, bool Namespaced, IReadOnlyList<string> Verbs, string Kind);

    private sealed record Outcome(string Request, int Status, string Body);

    [Fact]
    public async Task EveryEndpoint_HostileBodies_NeverAnswer5xxAndAlwaysAStatus()
    {
        var ns = "fuzz-" + Guid.NewGuid().ToString("N")[..6];
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/api/v1/namespaces", "{\"metadata\":{\"name\":\"" + ns + "\"}}")).Status);
        await SeedObjectsAsync(ns);
        var endpoints = await DiscoverAsync();
        Assert.True(endpoints.Count > 50, $"discovery listed only {endpoints.Count} endpoints");
        var schemas = new WellTypedObjects();

        var random = new Random(Seed);
        var failures = new List<Outcome>();
        var clock = Stopwatch.StartNew();
        var sent = 0;
        var accepted = 0;
        var writeStatuses = new SortedDictionary<int, int>();
        for (var round = 0; round < Rounds && clock.Elapsed < Budget; round++)
        {
            foreach (var endpoint in endpoints)
            {
                if (clock.Elapsed >= Budget)
                {
                    break;
                }

                var outcome = await SendOneAsync(random, endpoint, ns, schemas);
                sent++;
                accepted += outcome.Status is >= 200 and < 300 && outcome.Request.StartsWith('P') ? 1 : 0;
                if (outcome.Request.StartsWith('P'))
                {
                    writeStatuses[outcome.Status] = writeStatuses.GetValueOrDefault(outcome.Status) + 1;
                }
                if (outcome.Status >= 500 || (outcome.Status >= 400 && !IsStatus(outcome.Body)))
                {
                    failures.Add(outcome);
                }
            }
        }

        Assert.True(sent >= endpoints.Count, $"only {sent} requests were sent in {Budget}");
        // Writes must get past decoding into validation and the strategies (stored, 409 or 422), and some must be stored;
        // how many of each depends on the seed and on the set of endpoints discovery lists.
        var validated = accepted + writeStatuses.GetValueOrDefault(409) + writeStatuses.GetValueOrDefault(422);
        var byStatus = string.Join(", ", writeStatuses.Select(p => $"{p.Key}: {p.Value}"));
        Assert.True(validated >= 10 && accepted >= 3, $"{validated} of {sent} writes reached validation and {accepted} were accepted; writes by status: {byStatus}");
        Assert.True(failures.Count == 0, $"{failures.Count} of {sent} requests (seed {Seed}) failed:\n" + string.Join("\n", failures.Take(20).Select(f => $"{f.Request} -> {f.Status} {f.Body[..Math.Min(f.Body.Length, 1500)]}")));

        using (var ready = await server.Client.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal("ok", await ready.Content.ReadAsStringAsync());
        }

        var (created, _) = await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", "{\"metadata\":{\"name\":\"after-fuzz\"},\"data\":{\"k\":\"v\"}}");
        Assert.Equal(HttpStatusCode.Created, created);
        var (listed, list) = await server.GetAsync("/api/v1/configmaps");
        Assert.Equal(HttpStatusCode.OK, listed);
        Assert.Contains(list!["items"]!.AsArray(), i => (string?)i!["metadata"]!["name"] == "after-fuzz");
    }

    private async Task SeedObjectsAsync(string ns)
    {
        string[] bodies =
        [
            $"/api/v1/namespaces/{ns}/configmaps|{{\"metadata\":{{\"name\":\"fuzz-a\"}},\"data\":{{\"k\":\"v\"}}}}",
            $"/api/v1/namespaces/{ns}/secrets|{{\"metadata\":{{\"name\":\"fuzz-a\"}},\"data\":{{\"k\":\"dg==\"}}}}",
            $"/api/v1/namespaces/{ns}/services|{{\"metadata\":{{\"name\":\"fuzz-a\"}},\"spec\":{{\"ports\":[{{\"port\":80}}]}}}}",
            $"/api/v1/namespaces/{ns}/pods|{{\"metadata\":{{\"name\":\"fuzz-a\"}},\"spec\":{{\"containers\":[{{\"name\":\"c\",\"image\":\"busybox\"}}]}}}}",
            $"/apis/apps/v1/namespaces/{ns}/deployments|{{\"metadata\":{{\"name\":\"fuzz-a\"}},\"spec\":{{\"selector\":{{\"matchLabels\":{{\"a\":\"b\"}}}},\"template\":{{\"metadata\":{{\"labels\":{{\"a\":\"b\"}}}},\"spec\":{{\"containers\":[{{\"name\":\"c\",\"image\":\"busybox\"}}]}}}}}}}}",
            $"/apis/apps/v1/namespaces/{ns}/statefulsets|{{\"metadata\":{{\"name\":\"fuzz-a\"}},\"spec\":{{\"serviceName\":\"s\",\"selector\":{{\"matchLabels\":{{\"a\":\"b\"}}}},\"template\":{{\"metadata\":{{\"labels\":{{\"a\":\"b\"}}}},\"spec\":{{\"containers\":[{{\"name\":\"c\",\"image\":\"busybox\"}}]}}}}}}}}",
            $"/apis/apps/v1/namespaces/{ns}/replicasets|{{\"metadata\":{{\"name\":\"fuzz-a\"}},\"spec\":{{\"selector\":{{\"matchLabels\":{{\"a\":\"b\"}}}},\"template\":{{\"metadata\":{{\"labels\":{{\"a\":\"b\"}}}},\"spec\":{{\"containers\":[{{\"name\":\"c\",\"image\":\"busybox\"}}]}}}}}}}}",
        ];
        foreach (var entry in bodies)
        {
            var parts = entry.Split('|', 2);
            Assert.Equal(HttpStatusCode.Created, (await server.PostAsync(parts[0], parts[1])).Status);
        }
    }

    /// <summary>Every resource and subresource of every served group version, except the streaming node connections.</summary>
    private async Task<List<Endpoint>> DiscoverAsync()
    {
        var versions = new List<string> { "/api/v1" };
        var (_, groups) = await server.GetAsync("/apis");
        foreach (var group in groups!["groups"]!.AsArray())
        {
            foreach (var version in group!["versions"]!.AsArray())
            {
                versions.Add("/apis/" + (string?)version!["groupVersion"]);
            }
        }

        var endpoints = new List<Endpoint>();
        foreach (var prefix in versions)
        {
            var (status, list) = await server.GetAsync(prefix);
            Assert.Equal(HttpStatusCode.OK, status);
            foreach (var entry in list!["resources"]!.AsArray())
            {
                var name = (string)entry!["name"]!;
                var parts = name.Split('/');
                if (parts.Length > 1 && parts[1] is "exec" or "attach" or "portforward" or "log" or "proxy")
                {
                    continue;
                }

                var verbs = entry["verbs"]!.AsArray().Select(v => (string)v!).ToList();
                endpoints.Add(new Endpoint(prefix, parts[0], parts.Length > 1 ? parts[1] : null, (bool)entry["namespaced"]!, verbs, (string?)entry["kind"] ?? string.Empty));
            }
        }

        return endpoints;
    }

    private async Task<Outcome> SendOneAsync(Random random, Endpoint endpoint, string ns, WellTypedObjects schemas)
    {
        var verbs = endpoint.Verbs.Where(v => v is not ("watch" or "proxy")).ToList();
        if (endpoint.Subresource is not null)
        {
            verbs = ["get", "update", "patch", "create"];
        }

        if (!endpoint.Namespaced)
        {
            // Deleting whole cluster-scoped collections would take the server's own objects with it.
            verbs.Remove("deletecollection");
        }

        var verb = verbs.Count == 0 ? "get" : verbs[random.Next(verbs.Count)];
        var name = random.Next(3) == 0 ? Names[random.Next(Names.Length)] : "fuzz-a";
        var collection = endpoint.Namespaced ? $"{endpoint.Collection}/namespaces/{ns}/{endpoint.Resource}" : $"{endpoint.Collection}/{endpoint.Resource}";
        var item = $"{collection}/{name}" + (endpoint.Subresource is null ? string.Empty : "/" + endpoint.Subresource);
        var (method, path) = verb switch
        {
            "list" => (HttpMethod.Get, collection),
            "get" => (HttpMethod.Get, item),
            "create" when endpoint.Subresource is null => (HttpMethod.Post, collection),
            "create" => (HttpMethod.Post, item),
            "update" => (HttpMethod.Put, item),
            "patch" => (HttpMethod.Patch, item),
            "delete" => (HttpMethod.Delete, item),
            "deletecollection" => (HttpMethod.Delete, collection + "?labelSelector=fuzz%3Dyes"),
            _ => (HttpMethod.Get, collection),
        };
        var contentType = ContentTypes[random.Next(ContentTypes.Length)];
        var query = random.Next(4) switch
        {
            0 => "dryRun=All",
            1 => "fieldValidation=Strict&fieldManager=fuzz",
            2 => "fieldManager=fuzz&force=true",
            _ => string.Empty,
        };
        if (query.Length > 0)
        {
            path += (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + query;
        }

        byte[]? body = method == HttpMethod.Get ? null : Body(random, contentType, endpoint);
        if (body is not null && random.Next(2) == 0 && schemas.Generate(random, endpoint) is { } wellTyped)
        {
            // Half the bodies decode: random values of the right types reach validation and the kind's strategy.
            contentType = method == HttpMethod.Patch ? (random.Next(2) == 0 ? "application/merge-patch+json" : "application/strategic-merge-patch+json") : "application/json";
            body = Encoding.UTF8.GetBytes(wellTyped);
        }

        var uri = new Uri(server.Host.Url + path.TrimStart('/'), new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var request = new HttpRequestMessage(method, uri);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        if (random.Next(5) == 0)
        {
            request.Headers.TryAddWithoutValidation("Accept", random.Next(2) == 0 ? "application/json;as=Table;v=v1;g=meta.k8s.io" : "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io");
        }

        var description = $"{method} {path} [{contentType}] body={(body is null ? "none" : Encoding.UTF8.GetString(body[..Math.Min(body.Length, 200)]))}";
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            using var response = await server.Client.SendAsync(request, timeout.Token);
            var text = await response.Content.ReadAsStringAsync(timeout.Token);
            return new Outcome(description, (int)response.StatusCode, text);
        }
        catch (OperationCanceledException)
        {
            return new Outcome(description, 599, "no answer within 15 s");
        }
    }

    private static bool IsStatus(string body)
    {
        try
        {
            return JsonNode.Parse(body) is JsonObject obj && (string?)obj["kind"] == "Status" && obj["code"] is not null;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    private static byte[] Body(Random random, string contentType, Endpoint endpoint)
    {
        var kind = char.ToUpperInvariant(endpoint.Resource[0]) + endpoint.Resource[1..].TrimEnd('s');
        var apiVersion = endpoint.Collection == "/api/v1" ? "v1" : endpoint.Collection["/apis/".Length..];
        var text = new StringBuilder();
        switch (random.Next(10))
        {
            case 0:
                var noise = new byte[random.Next(0, 300)];
                random.NextBytes(noise);
                return contentType.Contains("protobuf", StringComparison.Ordinal) ? [.. "k8s\0"u8.ToArray(), .. noise] : noise;
            case 1 when contentType.Contains("yaml", StringComparison.Ordinal):
                text.Append("apiVersion: ").Append(apiVersion).Append("\nkind: ").Append(kind).Append("\nmetadata:\n  name: fuzz-b\n  labels: &l {a: !!binary aGk=, b: 0x1F, c: .inf}\nspec:\n  <<: *l\n  x: [*l, *l, ~, 1e400, !!float 3]\n");
                break;
            case 2 when contentType == "application/json-patch+json":
            case 3 when contentType == "application/json-patch+json":
                JsonPatch(random, text);
                break;
            default:
                text.Append("{\"apiVersion\":\"").Append(apiVersion).Append("\",\"kind\":\"").Append(kind).Append("\",\"metadata\":{\"name\":\"")
                    .Append(random.Next(2) == 0 ? "fuzz-a" : "fuzz-b").Append("\",\"labels\":{\"fuzz\":\"yes\"}}");
                for (var i = random.Next(1, 5); i > 0; i--)
                {
                    text.Append(",\"").Append(Keys[random.Next(Keys.Length)]).Append("\":");
                    Value(random, text, 0);
                }

                text.Append('}');
                break;
        }

        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        switch (random.Next(8))
        {
            case 0 when bytes.Length > 2:
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                break;
            case 1 when bytes.Length > 2:
                bytes = bytes[..random.Next(bytes.Length)];
                break;
        }

        return bytes;
    }

    private static void JsonPatch(Random random, StringBuilder text)
    {
        string[] ops = ["add", "remove", "replace", "move", "copy", "test", "bogus"];
        string[] paths = ["", "/", "/metadata/labels/x", "/spec", "/spec/replicas", "/metadata/finalizers/-", "/data/k", "/x/0", "/metadata/name", "/kind", "/spec/template/spec/containers/0/image"];
        text.Append('[');
        for (var i = random.Next(0, 40); i >= 0; i--)
        {
            text.Append("{\"op\":\"").Append(ops[random.Next(ops.Length)]).Append("\",\"path\":\"").Append(paths[random.Next(paths.Length)])
                .Append("\",\"from\":\"").Append(paths[random.Next(paths.Length)]).Append("\",\"value\":");
            Value(random, text, 0);
            text.Append(i == 0 ? "}" : "},");
        }

        text.Append(']');
    }

    private static void Value(Random random, StringBuilder text, int depth)
    {
        switch (random.Next(depth > 4 ? 9 : 12))
        {
            case 0:
                text.Append("null");
                break;
            case 1:
                text.Append(random.Next(2) == 0 ? "true" : "false");
                break;
            case 2:
                string[] numbers = ["0", "-1", "1.5", "2147483648", "9223372036854775808", "99999999999999999999", "1e400", "-0", "1E2", "3"];
                text.Append(numbers[random.Next(numbers.Length)]);
                break;
            case 3:
                text.Append(random.Next(int.MinValue, int.MaxValue).ToString(CultureInfo.InvariantCulture));
                break;
            case 4:
                string[] strings = ["\"\"", "\"..\"", "\"\\ud800\"", "\"\\udc00\\ud800\"", "\"a\\u0000b\"", "\"100m\"", "\"1Gi\"", "\"lots\"", "\"2024-01-01T00:00:00Z\"", "\"not-a-time\"", "\"aGk=\"", "\"$%^\""];
                text.Append(strings[random.Next(strings.Length)]);
                break;
            case 5:
                text.Append('"').Append('x', random.Next(0, 5000)).Append('"');
                break;
            case 6:
            case 7:
            case 8:
                text.Append('"').Append(Keys[random.Next(Keys.Length)].Replace("\"", string.Empty, StringComparison.Ordinal)).Append('"');
                break;
            case 9:
                text.Append('[');
                for (var i = random.Next(0, 4); i > 0; i--)
                {
                    Value(random, text, depth + 1);
                    text.Append(i == 1 ? string.Empty : ",");
                }

                text.Append(']');
                break;
            default:
                text.Append('{');
                for (var i = random.Next(0, 5); i > 0; i--)
                {
                    text.Append('"').Append(Keys[random.Next(Keys.Length)]).Append("\":");
                    Value(random, text, depth + 1);
                    text.Append(i == 1 ? string.Empty : ",");
                }

                text.Append('}');
                break;
        }
    }

    /// <summary>Random objects that follow a kind's schema: every value of the declared type, with hostile content.</summary>
    private sealed class WellTypedObjects
    {
        private static readonly string[] Strings = ["", "a", "fuzz-a", "..", "UPPER", "a/b", "\u00e9", "-", "0", new string('s', 300), "kube-system", "*", "TCP", "Always"];

        public string? Generate(Random random, Endpoint endpoint)
        {
            var group = endpoint.Collection == "/api/v1" ? string.Empty : endpoint.Collection["/apis/".Length..].Split('/')[0];
            var version = endpoint.Collection.Split('/')[^1];
            if (ApiSchema.ForKind(new GroupVersionKind(group, version, endpoint.Kind)) is not { } schema)
            {
                return null;
            }

            var obj = Value(random, schema, 0) as JsonObject ?? [];
            obj["apiVersion"] = group.Length == 0 ? version : $"{group}/{version}";
            obj["kind"] = endpoint.Kind;
            obj["metadata"] = new JsonObject { ["name"] = random.Next(2) == 0 ? "fuzz-a" : "fuzz-b", ["labels"] = new JsonObject { ["fuzz"] = "yes" } };
            return obj.ToJsonString();
        }

        private static JsonNode? Value(Random random, TypeSchema schema, int depth)
        {
            switch (schema.Name)
            {
                case "io.k8s.apimachinery.pkg.api.resource.Quantity":
                    string[] quantities = ["0", "100m", "1Gi", "-1", "1e3", "999999999999999999999", "0.0001"];
                    return quantities[random.Next(quantities.Length)];
                case "io.k8s.apimachinery.pkg.apis.meta.v1.Time" or "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime":
                    return random.Next(2) == 0 ? "2024-01-01T00:00:00Z" : "1970-01-01T00:00:00.123456+01:00";
            }

            switch (schema.Kind)
            {
                case SchemaKind.String:
                    return schema.Format == "byte" ? "aGk=" : schema.Enum is { Count: > 0 } values && random.Next(3) > 0 ? values[random.Next(values.Count)] : Strings[random.Next(Strings.Length)];
                case SchemaKind.Integer:
                    int[] edges = [0, -1, 1, 2, 65535, 65536, int.MaxValue, int.MinValue];
                    return schema.Format == "int64" && random.Next(4) == 0 ? long.MaxValue : edges[random.Next(edges.Length)];
                case SchemaKind.Number:
                    return random.Next(2) == 0 ? 0.5 : -1e300;
                case SchemaKind.Boolean:
                    return random.Next(2) == 0;
                case SchemaKind.IntOrString:
                    return random.Next(2) == 0 ? random.Next(-2, 70000) : Strings[random.Next(Strings.Length)];
                case SchemaKind.Any:
                    return new JsonObject { ["x"] = 1 };
                case SchemaKind.Array:
                    var array = new JsonArray();
                    for (var i = depth > 4 || schema.Items is null ? 0 : random.Next(0, 3); i > 0; i--)
                    {
                        array.Add(Value(random, schema.Items!, depth + 1));
                    }

                    return array;
                case SchemaKind.Map:
                    var map = new JsonObject();
                    for (var i = depth > 4 || schema.Items is null ? 0 : random.Next(0, 3); i > 0; i--)
                    {
                        map[Strings[random.Next(Strings.Length)] + i.ToString(CultureInfo.InvariantCulture)] = Value(random, schema.Items!, depth + 1);
                    }

                    return map;
                default:
                    var obj = new JsonObject();
                    if (depth <= 6)
                    {
                        foreach (var (name, field) in schema.Properties)
                        {
                            if (name is not ("apiVersion" or "kind" or "metadata") && random.Next(3) == 0)
                            {
                                obj[name] = Value(random, field.Type, depth + 1);
                            }
                        }
                    }

                    return obj;
            }
        }
    }
}
