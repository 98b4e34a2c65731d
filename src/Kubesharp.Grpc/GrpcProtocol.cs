using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace Kubesharp.Grpc;

/// <summary>gRPC-over-HTTP/2 header rules: timeouts, statuses, metadata.</summary>
internal static class GrpcProtocol
{
    public const string ContentType = "application/grpc";
    public const string StatusHeader = "grpc-status";
    public const string MessageHeader = "grpc-message";
    public const string TimeoutHeader = "grpc-timeout";
    public const string EncodingHeader = "grpc-encoding";

    /// <summary>grpc-timeout allows at most eight digits, so pick the finest unit that fits.</summary>
    public static string EncodeTimeout(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
        {
            return "1n";
        }

        const long MaxValue = 99_999_999;
        var ticks = timeout.Ticks;
        var nanos = ticks * 100;
        if (ticks < long.MaxValue / 100 && nanos <= MaxValue)
        {
            return nanos.ToString(CultureInfo.InvariantCulture) + "n";
        }

        ReadOnlySpan<(long TicksPerUnit, char Unit)> units =
        [
            (TimeSpan.TicksPerMicrosecond, 'u'),
            (TimeSpan.TicksPerMillisecond, 'm'),
            (TimeSpan.TicksPerSecond, 'S'),
            (TimeSpan.TicksPerMinute, 'M'),
            (TimeSpan.TicksPerHour, 'H'),
        ];
        foreach (var (perUnit, unit) in units)
        {
            var value = (ticks + perUnit - 1) / perUnit;
            if (value <= MaxValue)
            {
                return value.ToString(CultureInfo.InvariantCulture) + unit;
            }
        }

        return MaxValue.ToString(CultureInfo.InvariantCulture) + "H";
    }

    /// <summary>The gRPC status for an HTTP response that is not a proper gRPC response.</summary>
    public static StatusCode FromHttpStatus(HttpStatusCode status) => status switch
    {
        HttpStatusCode.BadRequest => StatusCode.Internal,
        HttpStatusCode.Unauthorized => StatusCode.Unauthenticated,
        HttpStatusCode.Forbidden => StatusCode.PermissionDenied,
        HttpStatusCode.NotFound => StatusCode.Unimplemented,
        HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable
            or HttpStatusCode.GatewayTimeout => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };

    /// <summary>Reads grpc-status and grpc-message from headers or trailers; null when grpc-status is absent.</summary>
    public static (StatusCode Code, string Message)? ReadStatus(HttpHeaders headers)
    {
        if (!headers.TryGetValues(StatusHeader, out var values))
        {
            return null;
        }

        var raw = values.FirstOrDefault();
        if (!int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var code))
        {
            return (StatusCode.Unknown, $"Invalid grpc-status '{raw}'.");
        }

        var message = headers.TryGetValues(MessageHeader, out var messages) ? messages.FirstOrDefault() ?? "" : "";
        return ((StatusCode)code, DecodeMessage(message));
    }

    /// <summary>grpc-message is percent-encoded UTF-8.</summary>
    public static string DecodeMessage(string value)
    {
        try
        {
            return Uri.UnescapeDataString(value);
        }
        catch (UriFormatException)
        {
            return value;
        }
    }

    public static Metadata ToMetadata(HttpHeaders headers)
    {
        var metadata = new Metadata();
        foreach (var (key, values) in headers)
        {
            foreach (var value in values)
            {
                metadata.AddRaw(key, value);
            }
        }

        return metadata;
    }

    /// <summary>Maps a transport failure to the gRPC status a call reports for it.</summary>
    public static RpcException FromTransportFailure(Exception exception)
    {
        if (exception is RpcException rpc)
        {
            return rpc;
        }

        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpProtocolException protocol)
            {
                // HTTP/2 error codes: REFUSED_STREAM 0x7, CANCEL 0x8, ENHANCE_YOUR_CALM 0xb, INADEQUATE_SECURITY 0xc.
                var code = protocol.ErrorCode switch
                {
                    0x7 => StatusCode.Unavailable,
                    0x8 => StatusCode.Cancelled,
                    0xb => StatusCode.ResourceExhausted,
                    0xc => StatusCode.PermissionDenied,
                    _ => StatusCode.Internal,
                };
                return new RpcException(code, "Stream reset by the server: " + protocol.Message, null, exception);
            }
        }

        return new RpcException(StatusCode.Unavailable, exception.Message, null, exception);
    }
}
