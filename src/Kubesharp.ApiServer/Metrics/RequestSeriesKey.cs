namespace Kubesharp.ApiServer.Metrics;

/// <summary>The labels of one request series: upstream's verb, dry run, group, version, resource, subresource, scope and response code.</summary>
internal readonly record struct RequestSeriesKey(string Verb, string DryRun, string Group, string Version, string Resource, string Subresource, string Scope, int Code);
