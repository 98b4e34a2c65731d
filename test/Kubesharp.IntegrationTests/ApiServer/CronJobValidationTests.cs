using System.Net;
using System.Text.Json.Nodes;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>CronJob schedules and time zones checked at create and update, with upstream's 422 Status and causes.</summary>
[Collection(ServerCollection.Name)]
public sealed class CronJobValidationTests(TestServer server)
{
    /// <summary>Runs <paramref name="test"/> in a namespace of its own, deleted afterwards.</summary>
    private async Task InNamespaceAsync(Func<string, Task> test)
    {
        var ns = "t" + Guid.NewGuid().ToString("N")[..10];
        var (status, _) = await server.PostAsync("/api/v1/namespaces", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" + ns + "\"}}");
        Assert.Equal(HttpStatusCode.Created, status);
        try
        {
            await test(ns);
        }
        finally
        {
            await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}");
        }
    }

    private static string CronJob(string name, string schedule, string? timeZone = null) =>
        "{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":\"" + name + "\"},\"spec\":{\"schedule\":" + JsonValue.Create(schedule).ToJsonString()
        + (timeZone is null ? string.Empty : ",\"timeZone\":" + JsonValue.Create(timeZone).ToJsonString())
        + ",\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox:1\"}]}}}}}}";

    private static void AssertInvalid(HttpStatusCode status, JsonNode? body, string name, string field, string message)
    {
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal("Status", (string?)body!["kind"]);
        Assert.Equal("Failure", (string?)body["status"]);
        Assert.Equal("Invalid", (string?)body["reason"]);
        Assert.Equal(422, (int?)body["code"]);
        Assert.Equal(name, (string?)body["details"]!["name"]);
        Assert.Equal("batch", (string?)body["details"]!["group"]);
        Assert.Equal("CronJob", (string?)body["details"]!["kind"]);
        var causes = body["details"]!["causes"]!.AsArray();
        Assert.Contains(causes, c => (string?)c!["field"] == field && (string?)c["reason"] == "FieldValueInvalid" && (string?)c["message"] == message);
        Assert.Contains($"CronJob.batch \"{name}\" is invalid: {field}: {message}", (string?)body["message"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not a schedule", "Invalid value: \"not a schedule\": expected exactly 5 fields, found 3: [not a schedule]")]
    [InlineData("* * * *", "Invalid value: \"* * * *\": expected exactly 5 fields, found 4: [* * * *]")]
    [InlineData("61 * * * *", "Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61")]
    [InlineData("0 0 0 * *", "Invalid value: \"0 0 0 * *\": beginning of range (0) below minimum (1): 0")]
    [InlineData("5-2 * * * *", "Invalid value: \"5-2 * * * *\": beginning of range (5) beyond end of range (2): 5-2")]
    [InlineData("*/0 * * * *", "Invalid value: \"*/0 * * * *\": step of range should be a positive number: */0")]
    [InlineData("x * * * *", "Invalid value: \"x * * * *\": failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax")]
    [InlineData("0 0 * * 7", "Invalid value: \"0 0 * * 7\": end of range (7) above maximum (6): 7")]
    [InlineData("@fortnightly", "Invalid value: \"@fortnightly\": unrecognized descriptor: @fortnightly")]
    [InlineData("@every 5x", "Invalid value: \"@every 5x\": failed to parse duration @every 5x: time: unknown unit \"x\" in duration \"5x\"")]
    [InlineData("CRON_TZ=UTC 0 * * * *", "Invalid value: \"CRON_TZ=UTC 0 * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead")]
    public async Task Create_CronJobWithInvalidSchedule_Is422OnSpecSchedule(string schedule, string message)
    {
        await InNamespaceAsync(async ns =>
        {
            var (status, body) = await server.PostAsync($"/apis/batch/v1/namespaces/{ns}/cronjobs", CronJob("tick", schedule));

            AssertInvalid(status, body, "tick", "spec.schedule", message);
        });
    }

    [Theory]
    [InlineData("0 9 * * mon-fri")]
    [InlineData("*/15 0-6,18-23 1,15 jan-jun,DEC ?")]
    [InlineData("@hourly")]
    [InlineData("@every 1h30m")]
    public async Task Create_CronJobWithValidSchedule_IsCreated(string schedule)
    {
        await InNamespaceAsync(async ns =>
        {
            var (status, _) = await server.PostAsync($"/apis/batch/v1/namespaces/{ns}/cronjobs", CronJob("tick", schedule, "Europe/Berlin"));

            Assert.Equal(HttpStatusCode.Created, status);
        });
    }

    [Theory]
    [InlineData("Mars/Olympus_Mons", "Invalid value: \"Mars/Olympus_Mons\": unknown time zone Mars/Olympus_Mons")]
    [InlineData("Europe/../etc", "Invalid value: \"Europe/../etc\": unknown time zone Europe/../etc")]
    [InlineData("Local", "Invalid value: \"Local\": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")]
    [InlineData("", "Invalid value: \"\": timeZone must be nil or non-empty string")]
    public async Task Create_CronJobWithInvalidTimeZone_Is422OnSpecTimeZone(string zone, string message)
    {
        await InNamespaceAsync(async ns =>
        {
            var (status, body) = await server.PostAsync($"/apis/batch/v1/namespaces/{ns}/cronjobs", CronJob("tick", "0 * * * *", zone));

            AssertInvalid(status, body, "tick", "spec.timeZone", message);
        });
    }

    [Fact]
    public async Task Update_CronJobToInvalidScheduleOrZone_Is422_AndTheStoredObjectIsUnchanged()
    {
        await InNamespaceAsync(async ns =>
        {
            var path = $"/apis/batch/v1/namespaces/{ns}/cronjobs/tick";
            var (created, _) = await server.PostAsync($"/apis/batch/v1/namespaces/{ns}/cronjobs", CronJob("tick", "*/5 * * * *"));
            Assert.Equal(HttpStatusCode.Created, created);

            var (patched, body) = await server.SendAsync(HttpMethod.Patch, path, """{"spec":{"schedule":"*/5 * * *"}}""", "application/merge-patch+json");
            AssertInvalid(patched, body, "tick", "spec.schedule", "Invalid value: \"*/5 * * *\": expected exactly 5 fields, found 4: [*/5 * * *]");

            var (zoned, zoneBody) = await server.SendAsync(HttpMethod.Patch, path, """{"spec":{"timeZone":"Nowhere/Land"}}""", "application/merge-patch+json");
            AssertInvalid(zoned, zoneBody, "tick", "spec.timeZone", "Invalid value: \"Nowhere/Land\": unknown time zone Nowhere/Land");

            var (tz, tzBody) = await server.SendAsync(HttpMethod.Patch, path, """{"spec":{"schedule":"TZ=UTC */5 * * * *"}}""", "application/merge-patch+json");
            AssertInvalid(tz, tzBody, "tick", "spec.schedule", "Invalid value: \"TZ=UTC */5 * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead");

            var (ok, updated) = await server.SendAsync(HttpMethod.Patch, path, """{"spec":{"schedule":"@daily","timeZone":"Asia/Tokyo"}}""", "application/merge-patch+json");
            Assert.Equal(HttpStatusCode.OK, ok);
            Assert.Equal("@daily", (string?)updated!["spec"]!["schedule"]);

            var (_, stored) = await server.GetAsync(path);
            Assert.Equal("Asia/Tokyo", (string?)stored!["spec"]!["timeZone"]);
            var (deleted, _) = await server.SendAsync(HttpMethod.Delete, path);
            Assert.Equal(HttpStatusCode.OK, deleted);
        });
    }
}
