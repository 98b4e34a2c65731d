namespace Kubesharp.Kubelet.Streaming;

/// <summary>One record of a CRI log file: "TIMESTAMP STREAM TAG CONTENT", TAG P for a partial line, F for a full one.</summary>
internal readonly record struct CriLogLine(DateTimeOffset Timestamp, string Stream, string TimestampText, string Content);
